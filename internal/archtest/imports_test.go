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

// rule: no package under dir (non-test files), except those under the
// except dirs, imports what forbidden matches.
type rule struct {
	dir       string
	except    []string
	why       string
	forbidden func(imp string) bool
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
	{dir: "agent", why: "an agent links no control plane: control's API reaches it through control/wire and control/client, in-process control through internal/inprocess",
		forbidden: func(imp string) bool {
			return under(module+"control")(imp) && !under(module+"control/wire", module+"control/client", module+"control/pki")(imp)
		}},
	{dir: "agent", why: "the agent does not know how a process is composed", forbidden: under(module+"internal/node", module+"internal/inprocess", module+"cmd")},
	{dir: "agent/gateway", why: "the gateway takes plain options: the YAML (agent/config) is the composition root's, which builds them", forbidden: under(module + "agent/config")},
	{dir: "projections", except: []string{"projections/follow"},
		why: "projections are pure: no I/O, no event store, no clock source, no waiting, locking or logging (projections/follow is the impure part)",
		forbidden: under("net", "os", "io", "database/sql", "math/rand", "crypto/rand", "context", "sync", "log", "github.com/rs/zerolog",
			"github.com/nats-io", module+"eventlog/jetstream", module+"eventlog/memlog", module+"control", module+"agent")},
	{dir: "projections/follow", why: "the projection follower reads a stream through eventlog's interfaces: it links no stream implementation and no consumer",
		forbidden: under("net", "os", "database/sql", "github.com/nats-io", module+"eventlog/jetstream", module+"eventlog/memlog", module+"eventlog/embedded",
			module+"control", module+"agent", module+"export", module+"auditquery")},
	{dir: "eventlog", why: "the event log knows no consumer", forbidden: under(module+"control", module+"agent", module+"projections", module+"export", module+"auditquery", module+"schemas")},
	{dir: "schemas", why: "schemas are the contract, below everything that reads them", forbidden: under(module+"control", module+"agent", module+"projections", module+"export", module+"auditquery")},
	{dir: "control", why: "control does not link an agent", forbidden: under(module + "agent")},
	{dir: "control", except: []string{"control/client"}, why: "control serves its API; it is not a client of it (an identity on disk is internal/profile)",
		forbidden: under(module + "control/client")},
	{dir: "export", why: "export reads the log; it links no control plane or agent", forbidden: under(module+"control", module+"agent")},
	{dir: "policy", except: []string{"policy/sqlfacts", "policy/simulate"},
		why: "statement rules are judged purely on facts: no parser (policy/sqlfacts, cgo), no I/O, no waiting or locking",
		forbidden: under("net", "os", "io", "sync", "context", "github.com/pganalyze", module+"policy/sqlfacts",
			module+"eventlog", module+"control", module+"agent")},
	{dir: "agent/relay", why: "the relay judges through relay.Judge: the parser is linked by whoever builds the judge (agent/gateway)",
		forbidden: under("github.com/pganalyze", module+"policy/sqlfacts")},
	{dir: "auditquery", why: "auditquery returns data: the text people read of it is internal/auditview's (tollctl, the demo)",
		forbidden: under("text/tabwriter", module+"internal/auditview")},
}

// excepts tells whether the directory path is one of r's except dirs.
func (r rule) excepts(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && slices.Contains(r.except, filepath.ToSlash(rel))
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
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || r.excepts(root, path)) {
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
