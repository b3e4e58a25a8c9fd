package natstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// serverPkg is the main package of the nats-server module (go.mod requires
// the module for the embedded server).
const serverPkg = "github.com/nats-io/nats-server/v2"

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a nats-server built from this module's
// go.mod, building it the first time it is called in this test binary
// (into a temp dir of its own, which RemoveBinary deletes).
func Binary(ctx context.Context) (string, error) {
	build.once.Do(func() { build.path, build.err = buildBinary(ctx) })
	return build.path, build.err
}

// Main runs a package's tests and then removes the nats-server they built,
// if any, and exits: the TestMain of every package that starts a Cluster
// is `func TestMain(m *testing.M) { natstest.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	RemoveBinary()
	os.Exit(code)
}

// RemoveBinary deletes the built binary, if any (Main calls it after
// m.Run).
func RemoveBinary() {
	if build.path != "" {
		_ = os.RemoveAll(filepath.Dir(build.path))
	}
}

func buildBinary(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("natstest: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("natstest: not inside the module: run the tests from the repository")
	}
	dir, err := os.MkdirTemp("", "natstest-bin-")
	if err != nil {
		return "", fmt.Errorf("natstest: %w", err)
	}
	bin := filepath.Join(dir, "nats-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, serverPkg)
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("natstest: go build %s: %w: %s", serverPkg, err, b)
	}
	return bin, nil
}
