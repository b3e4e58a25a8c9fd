package helm

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The tools' versions: built from their modules (go install pkg@version)
// into a cache dir kept across runs, so only the first run compiles them.
const (
	helmPkg        = "helm.sh/helm/v3/cmd/helm@v3.22.0"
	kubeconformPkg = "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
	// kubernetesModule carries api/openapi-spec/swagger.json, the
	// Kubernetes API the schemas are made from.
	kubernetesModule = "k8s.io/kubernetes@v1.34.4"
)

var toolMu sync.Mutex

// toolsDir is where built tools and converted schemas are kept.
func toolsDir(t *testing.T) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "tollgate-test-tools")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("tools dir: %v", err)
	}
	return dir
}

// tool returns the path of the binary pkg@version builds, building it
// when missing.
func tool(t *testing.T, pkg string) string {
	t.Helper()
	toolMu.Lock()
	defer toolMu.Unlock()
	path, version, _ := strings.Cut(pkg, "@")
	bin := filepath.Join(toolsDir(t), filepath.Base(path)+"-"+version)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", pkg)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s (needs the Go module proxy): GOBIN=%s go install %s: %v\n%s", filepath.Base(path), gobin, pkg, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, filepath.Base(path)), bin); err != nil {
		t.Fatalf("keep %s: %v", bin, err)
	}
	return bin
}

// moduleDir downloads mod (path@version) into the module cache and returns
// its directory.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go mod download -json %s (needs the Go module proxy): %v\n%s%s", mod, err, out.String(), stderr.String())
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out.Bytes(), &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download -json %s: %q %v", mod, info.Error, err)
	}
	return info.Dir
}
