package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSamplesCoverCatalogue(t *testing.T) {
	t.Parallel()
	s := samples()
	for _, in := range schemas.All() {
		_, ok := s[in.Type]
		require.True(t, ok, "no sample event for %s: add one to samples_test.go", in.Type)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	s := samples()
	types := make([]string, 0, len(s))
	for typ := range s {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, name := range []string{"native", "ocsf", "ecs"} {
		f, err := New(name, nil)
		require.NoError(t, err)
		for _, typ := range types {
			t.Run(name+"/"+typ, func(t *testing.T) {
				ev := s[typ]
				got, err := f.Format(&ev)
				require.NoError(t, err)
				require.True(t, json.Valid(got))
				var pretty bytes.Buffer
				require.NoError(t, json.Indent(&pretty, got, "", "  "))
				pretty.WriteByte('\n')
				path := filepath.Join("testdata", name, typ+".golden")
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./export/format -update")
				require.Equal(t, string(want), pretty.String())
			})
		}
	}
}

func TestOCSFClasses(t *testing.T) {
	t.Parallel()
	s := samples()
	cases := []struct {
		typ     string
		typeUID int
	}{
		{schemas.TypeQuery, 600504},
		{schemas.TypeQueryResult, 600504},
		{schemas.TypeAuthLogin, 300201},
		{schemas.TypeUserCreated, 300101},
		{schemas.TypeUserDeleted, 300106},
		{schemas.TypeUserUpdated, 300501},
		{schemas.TypeRoleCreated, 300401},
		{schemas.TypeRoleUpdated, 300403},
		{schemas.TypeRoleDeleted, 300404},
	}
	for _, c := range cases {
		ev := s[c.typ]
		b, err := OCSF{}.Format(&ev)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		require.EqualValues(t, c.typeUID, m["type_uid"], c.typ)
		require.EqualValues(t, c.typeUID/100, m["class_uid"], c.typ)
	}
}

func TestLargeQuery(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("SELECT 1; ", 1<<20/10)
	raw, err := json.Marshal(schemas.Query{SessionID: "s1", N: 1, Kind: "simple", Statement: big})
	require.NoError(t, err)
	ev := eventlog.Event{ID: "x", Type: schemas.TypeQuery, V: 1, Time: sampleTime, Subject: eventlog.AuditSubject("d", "u", "s1", "query"), Data: raw}
	for _, name := range []string{"native", "ocsf", "ecs"} {
		f, _ := New(name, nil)
		b, err := f.Format(&ev)
		require.NoError(t, err)
		require.Greater(t, len(b), 1<<20-16)
		require.True(t, json.Valid(b))
	}
}

func TestBadData(t *testing.T) {
	t.Parallel()
	ev := eventlog.Event{ID: "x", Type: schemas.TypeQuery, V: 1, Data: json.RawMessage(`{"n":"nope"}`)}
	_, err := OCSF{}.Format(&ev)
	require.ErrorContains(t, err, "format query x: decode query v1")
	// An event newer than this binary, or of a type it does not know, is
	// refused rather than mapped as if it were the current version (the
	// subscriber then exports it as stored).
	for _, f := range []Formatter{OCSF{}, ECS{}} {
		future := samples()[schemas.TypeSessionEnded]
		future.V = 2
		_, err = f.Format(&future)
		require.ErrorIs(t, err, schemas.ErrUnknownVersion, f.Name())
		unknown := samples()[schemas.TypeRoleCreated]
		unknown.Type = "role.renamed"
		_, err = f.Format(&unknown)
		require.ErrorIs(t, err, schemas.ErrUnknownType, f.Name())
	}
	_, err = New("xml", nil)
	require.ErrorIs(t, err, ErrUnknownFormat)
}

// TestNativeKeepsTheChain: a chained audit event whose data holds what
// json.Marshal would HTML-escape (the agent writes it unescaped),
// formatted native and read back, still has its hash: an exported file
// verifies.
func TestNativeKeepsTheChain(t *testing.T) {
	t.Parallel()
	ev, err := eventlog.NewBuilder("agent-1").Build(schemas.TypeQuery, 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", schemas.TypeQuery), nil)
	require.NoError(t, err)
	ev.Data = json.RawMessage(`{"session_id":"s1","n":1,"kind":"simple","statement":"SELECT 1 WHERE 2 > 1 AND 'a<b' <> 'x&y'"}`)
	require.NoError(t, eventlog.NewChainer(0, "").Next(&ev))
	line, err := Native{}.Format(&ev)
	require.NoError(t, err)
	require.Contains(t, string(line), "2 > 1 AND 'a<b' <> 'x&y'")
	var back eventlog.Event
	require.NoError(t, json.Unmarshal(line, &back))
	h, err := eventlog.EventHash(&back)
	require.NoError(t, err)
	require.Equal(t, ev.Hash, h)
}
