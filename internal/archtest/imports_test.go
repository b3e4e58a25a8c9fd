package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/tollgate-db/tollgate/"

// rule: no package under dir (non-test files) imports what forbidden
// matches; the packages under skip (inside dir) are not checked.
type rule struct {
	dir       string
	why       string
	forbidden func(imp string) bool
	skip      []string
}

func under(prefixes ...string) func(string) bool {
	return func(imp string) bool {
		for _, p := range prefixes {
			if imp == p || strings.HasPrefix(imp, p+"/") {
				return true
			}
		}
		return false
	}
}

var rules = []rule{
	{"agent", "an agent links no control plane: control's API reaches it through control/wire and control/client, in-process control through internal/inprocess",
		func(imp string) bool {
			return under(module+"control")(imp) && !under(module+"control/wire", module+"control/client", module+"control/pki")(imp)
		}, nil},
	{"agent", "the agent does not know how a process is composed", under(module+"internal/node", module+"internal/inprocess", module+"cmd"), nil},
	{"projections", "projections are pure: no I/O, no event store, no clock source",
		under("net", "os", "io/fs", "database/sql", "math/rand", "crypto/rand", "github.com/nats-io", module+"eventlog/jetstream", module+"eventlog/memlog", module+"control", module+"agent"), nil},
	{"eventlog", "the event log knows no consumer", under(module+"control", module+"agent", module+"projections", module+"export", module+"auditquery", module+"schemas"), nil},
	{"schemas", "schemas are the contract, below everything that reads them", under(module+"control", module+"agent", module+"projections", module+"export", module+"auditquery"), nil},
	{"control", "control does not link an agent", under(module + "agent"), nil},
	{"control", "control serves its API; it is not a client of it (an identity on disk is internal/profile)",
		under(module + "control/client"), []string{"control/client"}},
	{"export", "export reads the log; it links no control plane or agent", under(module+"control", module+"agent"), nil},
}

// TestImportsPointOneWay parses every non-test Go file of the module and
// fails on an import a rule forbids, naming the file.
func TestImportsPointOneWay(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root")
	checked := 0
	for _, r := range rules {
		dir := filepath.Join(root, r.dir)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || skipped(root, path, r.skip)) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			for _, spec := range f.Imports {
				imp, _ := strconv.Unquote(spec.Path.Value)
				if r.forbidden(imp) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s imports %s: %s", rel, imp, r.why)
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
	require.Greater(t, checked, 100, "the rules read the module's files")
}

func skipped(root, dir string, skip []string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && slices.Contains(skip, filepath.ToSlash(rel))
}
