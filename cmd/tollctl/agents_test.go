package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/tollctl -run %s -update", t.Name())
	require.Equal(t, string(want), string(got))
}

// TestRenderAgents: the agents table, with expiry relative to now, an
// agent a host CA rotation waits for, one without a recorded cert or
// version, and the empty list.
func TestRenderAgents(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	renderAgents(&b, []wire.Agent{
		{ID: "db1-01JP0000AA", Hostname: "db1", PublicAddr: "db1.example.com:7432", Version: "0.1.0", JoinedAt: now.Add(-48 * time.Hour),
			LastSeen: now.Add(-time.Hour), LastEvent: schemas.TypeAgentUpdated, HostCertNotAfter: now.Add(29 * 24 * time.Hour),
			Databases: []string{"pg", "roach"}},
		{ID: "db2-01JP0000BB", Hostname: "db2", JoinedAt: now.Add(-time.Hour), LastSeen: now.Add(-time.Hour),
			LastEvent: schemas.TypeAgentJoined, HostCertNotAfter: now.Add(90 * time.Minute), OldHostKey: true},
		{ID: "old-01JP0000CC", Hostname: "old", JoinedAt: now.Add(-40 * 24 * time.Hour), LastSeen: now.Add(-40 * 24 * time.Hour),
			HostCertNotAfter: now.Add(-10 * 24 * time.Hour)},
		{ID: "pre-01JP0000DD", Hostname: "pre", JoinedAt: now.Add(-time.Hour), LastSeen: now.Add(-time.Hour)},
	}, now)
	renderAgents(&b, nil, now)
	golden(t, "agents", b.Bytes())
}

// TestCLIAgents: tollctl agents ls against a real node lists joined
// agents with the version each reported, last seen (the time and type of
// its latest control event: join, database registration, host cert
// renewal) and its host cert's expiry; `tollctl agents` lists too; a host
// CA rotation marks the agent it waits for.
func TestCLIAgents(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	ctx := context.Background()
	require.Contains(t, admin.ok("agents"), "No agent has joined")

	ag := n.JoinAgent(t, "db1")
	list := func() wire.Agent {
		t.Helper()
		var ags []wire.Agent
		require.NoError(t, json.Unmarshal([]byte(admin.ok("agents", "ls", "--format=json")), &ags))
		require.Len(t, ags, 1)
		require.Equal(t, ag.ID, ags[0].ID)
		return ags[0]
	}
	// lastControl is the time and type of the newest control event.
	lastControl := func() (time.Time, string) {
		var ev eventlog.Event
		require.NoError(t, n.Env.Log.Control.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error { ev = r.Event; return nil }))
		return ev.Time, ev.Type
	}
	got := list()
	at, typ := lastControl()
	require.Equal(t, schemas.TypeAgentJoined, typ)
	require.Equal(t, "db1", got.Hostname)
	require.Equal(t, control.Version, got.Version)
	require.True(t, got.LastSeen.Equal(at), "last seen %s, joined %s", got.LastSeen, at)
	require.Equal(t, schemas.TypeAgentJoined, got.LastEvent)
	require.True(t, got.JoinedAt.Equal(at))
	require.True(t, got.HostCertNotAfter.Equal(ag.Cert.Leaf.NotAfter.UTC()), "expiry of the host cert the join issued")
	require.False(t, got.OldHostKey)

	host := control.Caller{Kind: control.CallerHost, Name: ag.ID}
	_, err := n.Env.Control.Databases().Register(ctx, host, schemas.Database{Name: "roach", Protocol: "cockroachdb", URI: "127.0.0.1:26257"})
	require.NoError(t, err)
	got = list()
	at, typ = lastControl()
	require.Equal(t, schemas.TypeDatabaseRegistered, typ)
	require.True(t, got.LastSeen.Equal(at))
	require.Equal(t, schemas.TypeDatabaseRegistered, got.LastEvent)
	require.Equal(t, []string{"roach"}, got.Databases)

	// A host CA rotation in update_servers waits for the agent; its
	// renewal reports a version and moves it to the new key.
	admin.ok("auth", "rotate", "--type=host")
	admin.ok("auth", "rotate", "--type=host", "--phase=next")
	admin.ok("auth", "rotate", "--type=host", "--phase=next")
	require.True(t, list().OldHostKey)
	out := admin.ok("agents")
	require.Contains(t, out, ag.ID)
	require.Contains(t, out, "old host key")
	_, pub, err := client.NewKey()
	require.NoError(t, err)
	renewed, err := n.Env.Control.Agents().Renew(ctx, host, wire.AgentRenew{PublicKeyPEM: string(pub), Version: "9.9.9-test"})
	require.NoError(t, err)
	got = list()
	at, typ = lastControl()
	require.Equal(t, schemas.TypeAgentUpdated, typ)
	require.True(t, got.LastSeen.Equal(at))
	require.Equal(t, "9.9.9-test", got.Version)
	require.False(t, got.OldHostKey)
	require.True(t, got.HostCertNotAfter.Equal(renewed.NotAfter.UTC()))
	out = admin.ok("agents", "ls")
	require.Regexp(t, `(?m)^`+ag.ID+`\s+db1\s+-\s+9\.9\.9-test\s+\S+\s+\S+ \(agent\.updated\)\s+\S+ \(in 29d\)\s+roach$`, strings.TrimSpace(out))
}
