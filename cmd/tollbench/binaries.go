package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// bins is the directory of the binaries the split rows run: tollgate,
// tollctl and toll from this module's source, and nats-server from the
// nats-server module this one requires (the external NATS row).
type bins string

func (b bins) path(name string) string { return filepath.Join(string(b), name) }

var errNoModule = errors.New("tollbench builds the daemons from this module's source: run it inside the repository (go run ./cmd/tollbench)")

// natsServerPkg is the main package of the nats-server module (go.mod
// requires the module for the embedded server).
const natsServerPkg = "github.com/nats-io/nats-server/v2"

// buildBinaries builds the three Tollgate binaries (and nats-server when
// withNATS) into dir/bin.
func buildBinaries(ctx context.Context, dir string, withNATS bool) (bins, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errNoModule
	}
	b := bins(filepath.Join(dir, "bin"))
	if err := goBuild(ctx, filepath.Dir(mod), string(b)+string(os.PathSeparator), "./cmd/tollgate", "./cmd/tollctl", "./cmd/toll"); err != nil {
		return "", err
	}
	if withNATS {
		if err := goBuild(ctx, filepath.Dir(mod), b.path("nats-server"), natsServerPkg); err != nil {
			return "", err
		}
	}
	return b, nil
}

func goBuild(ctx context.Context, root, out string, pkgs ...string) error {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", out}, pkgs...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", strings.Join(pkgs, " "), err, b)
	}
	return nil
}
