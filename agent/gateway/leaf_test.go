package gateway_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestLeafLocalStreamFullRefusesWith58000: a strict leaf agent whose hub
// is out of reach keeps its audit in its own JetStream until the local
// stream's bound; then queries are refused with 58000 naming why, and
// none of those runs. Every statement PostgreSQL ran is in the local
// stream, statement by statement.
func TestLeafLocalStreamFullRefusesWith58000(t *testing.T) {
	var leaf *jetstream.Log
	h := newHarnessWith(t, func(h *harness) {
		var err error
		leaf, err = jetstream.OpenLeaf(h.ctx, jetstream.LeafConfig{
			Config: jetstream.Config{DataDir: filepath.Join(h.dir, "leaf"), Logger: zerolog.Nop()},
			Domain: "tg-agent1", HubDomain: "tollgate", MaxBytes: 256 << 10,
			// A hub nobody listens on: the whole run is an outage.
			Hub: embedded.LeafRemote{URLs: []string{"tls://127.0.0.1:1"}, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}},
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = leaf.Close(context.Background()) })
		h.agentAudit = leaf.Audit
	})
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)

	script := filepath.Join(h.dir, "many.sql")
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "select %d as n, repeat('x', 200);\n", i)
	}
	require.NoError(t, os.WriteFile(script, []byte(b.String()), 0o600))
	cmd := h.psql(alice, "alice", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-f", script)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the run stops at the first refusal")
	require.Contains(t, string(out), "audit log unavailable; query not executed")
	require.Contains(t, string(out), "the local audit stream is full")

	logged := h.statementsInPGLog("alice")
	require.Greater(t, len(logged), 50, "queries ran until the bound")
	require.Less(t, len(logged), 2000, "the bound stopped the run")
	// The refused query's events wait in the spool for room; the local
	// stream holds a query event for every statement that ran, in order.
	var stored []string
	require.NoError(t, leaf.Audit.Read(h.ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if r.Event.Type == schemas.TypeQuery {
			stored = append(stored, decode[schemas.Query](t, r.Event).Statement)
		}
		return nil
	}))
	require.Equal(t, logged, stored)
	t.Logf("%d statements ran before the 256 KiB bound; the next was refused with 58000", len(logged))
}
