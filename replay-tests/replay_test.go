package replaytests

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the replayed state")
	regen  = flag.Bool("regen", false, "rewrite testdata/*.jsonl from scenarios_test.go (then run -update)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *regen {
		if err := regenerateLogs(); err != nil {
			fmt.Fprintln(os.Stderr, "regenerate logs:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// backend opens an empty control stream of one eventlog.Stream
// implementation for the duration of a test.
type backend struct {
	name string
	open func(t testing.TB) eventlog.Stream
}

func backends() []backend {
	return append([]backend{{name: "memlog", open: func(testing.TB) eventlog.Stream { return memlog.New(eventlog.ControlStream) }}}, extraBackends...)
}

// extraBackends are added by jetstream_test.go.
var extraBackends []backend

// logNames lists the recorded logs under testdata.
func logNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no recorded logs under testdata")
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".jsonl")
	}
	return names
}

// load appends the log to st and returns its events.
func load(t testing.TB, st eventlog.Stream, evs []eventlog.Event) {
	t.Helper()
	seqs, err := st.AppendBatch(context.Background(), evs)
	require.NoError(t, err)
	require.Len(t, seqs, len(evs))
	require.Equal(t, uint64(len(evs)), seqs[len(seqs)-1])
}

// replay folds the records of st matching q into s; it returns the apply
// errors as text.
func replay(t testing.TB, st eventlog.Stream, s *projections.State, q eventlog.Query) []string {
	t.Helper()
	var errs []string
	require.NoError(t, st.Read(context.Background(), q, func(rec eventlog.Record) error {
		if err := s.Apply(rec); err != nil {
			errs = append(errs, err.Error())
		}
		return nil
	}))
	return errs
}

func canonical(t testing.TB, s *projections.State) []byte {
	t.Helper()
	b, err := s.Canonical()
	require.NoError(t, err)
	return b
}

// goldenForm is the golden file form of canonical bytes: indented, so that
// diffs read well, and derived deterministically from them.
func goldenForm(t testing.TB, canon []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, canon, "", "  "))
	buf.WriteByte('\n')
	return buf.Bytes()
}

var wantApplyErrors = map[string]int{"invalid": 5}

func TestRecordedLogs(t *testing.T) {
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	for _, name := range logNames(t) {
		t.Run(name, func(t *testing.T) {
			evs, err := readLog(filepath.Join("testdata", name+".jsonl"))
			require.NoError(t, err)
			require.NotEmpty(t, evs)
			for i := range evs {
				require.NoError(t, v.Validate(&evs[i]), "event %d", i+1)
			}
			goldenPath := filepath.Join("testdata", name+".golden.json")
			var first []byte
			for _, b := range backends() {
				st := b.open(t)
				load(t, st, evs)
				t.Logf("replayed through %s", b.name)
				s := projections.New()
				errs := replay(t, st, s, eventlog.Query{})
				require.Len(t, errs, wantApplyErrors[name], "%s: %v", b.name, errs)
				require.Equal(t, uint64(len(evs)), s.LastSeq)
				got := goldenForm(t, canonical(t, s))
				if first == nil {
					first = got
					if *update {
						require.NoError(t, os.WriteFile(goldenPath, got, 0o644))
					}
					want, err := os.ReadFile(goldenPath)
					require.NoError(t, err, "run with -update to create it")
					require.Equal(t, string(want), string(got), "%s: state differs from %s", b.name, goldenPath)
				}
				require.Equal(t, string(first), string(got), "%s differs from %s", b.name, backends()[0].name)

				// Snapshot at every point plus the tail read from the
				// stream equals the full replay, byte for byte.
				full := canonical(t, s)
				for cut := 0; cut <= len(evs); cut++ {
					head := projections.New()
					replay(t, st, head, eventlog.Query{ToSeq: uint64(cut)})
					if cut == 0 {
						head = projections.New()
					}
					snap, err := projections.Snapshot(head)
					require.NoError(t, err)
					restored, err := projections.Restore(snap)
					require.NoError(t, err)
					replay(t, st, restored, eventlog.Query{FromSeq: uint64(cut) + 1})
					require.Equal(t, string(full), string(canonical(t, restored)), "%s: cut at %d", b.name, cut)
				}
			}
		})
	}
}

type accessCase struct {
	AfterSeq uint64    `json:"after_seq"`
	User     string    `json:"user"`
	DB       string    `json:"db"`
	DBUser   string    `json:"db_user"`
	DBName   string    `json:"db_name"`
	Time     time.Time `json:"time"`
	Allowed  bool      `json:"allowed"`
	Code     string    `json:"code"`
	Role     string    `json:"role"`
	Note     string    `json:"note"`
}

// TestAccessTable replays the access log up to each case's sequence (as
// `tollctl access at` does) and checks the decision.
func TestAccessTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "access_table.json"))
	require.NoError(t, err)
	var cases []accessCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	evs, err := readLog(filepath.Join("testdata", "access.jsonl"))
	require.NoError(t, err)
	for _, b := range backends() {
		st := b.open(t)
		load(t, st, evs)
		for i, c := range cases {
			s := projections.New()
			require.Empty(t, replay(t, st, s, eventlog.Query{ToSeq: c.AfterSeq}))
			require.Equal(t, c.AfterSeq, s.LastSeq)
			now := c.Time
			if now.IsZero() {
				now = s.LastTime
			}
			id, ok := access.IdentityFor(s, c.User, now)
			require.True(t, ok, "case %d: no user %s", i, c.User)
			d := access.Decide(s, id, c.DB, c.DBUser, c.DBName, now)
			msg := fmt.Sprintf("%s case %d (%s): %s", b.name, i, c.Note, d.Reason)
			require.Equal(t, c.Allowed, d.Allowed, msg)
			require.Equal(t, c.Code, d.Code, msg)
			require.Equal(t, c.Role, d.Role, msg)
			require.NotEmpty(t, d.Reason)
		}
	}
}
