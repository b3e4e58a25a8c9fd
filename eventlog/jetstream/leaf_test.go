package jetstream_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/schemas"
)

// leafWorld is a hub log taking leaf agents and the TLS material of one
// agent.
type leafWorld struct {
	dir      string
	hubCfg   jetstream.Config
	hub      *jetstream.Log
	agentTLS *tls.Config
}

func hostCerts(t *testing.T) (server tls.Certificate, agent tls.Certificate, pool *x509.CertPool) {
	t.Helper()
	caPEM, caKey, err := pki.NewCA(schemas.CAHost, pki.AlgECDSAP256, "leaf-test", time.Now(), time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(caPEM, caKey)
	require.NoError(t, err)
	issue := func(cn string, hosts ...string) tls.Certificate {
		c, k, _, err := iss.Issue(context.Background(), pki.Request{Kind: schemas.CertKindHost, CommonName: cn, Hosts: hosts,
			KeyAlg: pki.AlgECDSAP256, Now: time.Now(), TTL: time.Hour})
		require.NoError(t, err)
		pair, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		return pair
	}
	pool, err = pki.Pool(caPEM)
	require.NoError(t, err)
	return issue("control", "127.0.0.1", "localhost"), issue("agent-1"), pool
}

func startLeafHub(t *testing.T, ctx context.Context) *leafWorld {
	t.Helper()
	srv, agent, pool := hostCerts(t)
	w := &leafWorld{dir: t.TempDir()}
	w.hubCfg = jetstream.Config{DataDir: filepath.Join(w.dir, "hub"), Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Embedded: embedded.Config{Listen: "127.0.0.1:0", LeafListen: "127.0.0.1:0", Domain: "hub",
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{srv}, ClientCAs: pool, MinVersion: tls.VersionTLS12},
			AuthorizeLeaf: func(c *x509.Certificate) (embedded.Client, error) {
				return embedded.LeafAgentClient(c.Subject.CommonName, "hub", "agent-1", eventlog.ControlStream, eventlog.AuditStream), nil
			}}}
	var err error
	w.hub, err = jetstream.Open(ctx, w.hubCfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.hub.Close(context.Background()) })
	// A restart listens where the agent dials.
	w.hubCfg.Embedded.LeafListen = strings.TrimPrefix(w.hub.Server.LeafURL(), "tls://")
	w.agentTLS = &tls.Config{Certificates: []tls.Certificate{agent}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	return w
}

func (w *leafWorld) openLeaf(t *testing.T, ctx context.Context, maxBytes int64) *jetstream.Log {
	t.Helper()
	leaf, err := jetstream.OpenLeaf(ctx, jetstream.LeafConfig{
		Config: jetstream.Config{DataDir: filepath.Join(w.dir, "agent"), Logger: w.hubCfg.Logger},
		Domain: "agent-1", HubDomain: "hub", MaxBytes: maxBytes,
		Hub: embedded.LeafRemote{URLs: []string{w.hub.Server.LeafURL()}, TLSConfig: w.agentTLS, Reconnect: 50 * time.Millisecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = leaf.Close(context.Background()) })
	return leaf
}

func auditEvent(i int, typ string) eventlog.Event {
	return eventlog.Event{ID: fmt.Sprintf("ev-%04d", i), Type: typ, Source: "agent-1", Actor: "alice",
		Time: time.Unix(1700000000, 0).UTC(), Subject: eventlog.AuditSubject("db", "alice", "s1", typ),
		Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
}

// ids reads every event id of stream, in order.
func ids(t *testing.T, ctx context.Context, s eventlog.Stream) []string {
	t.Helper()
	var out []string
	require.NoError(t, s.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		out = append(out, r.Event.ID)
		return nil
	}))
	return out
}

func waitIDs(t *testing.T, ctx context.Context, s eventlog.Stream, n int) []string {
	t.Helper()
	var got []string
	require.Eventually(t, func() bool { got = ids(t, ctx, s); return len(got) >= n }, 60*time.Second, 50*time.Millisecond,
		"want %d events", n)
	return got
}

// TestLeafAuditReachesTheHubOnceAcrossAnOutage: a leaf agent's events are
// appended to its local stream while the hub runs, while it is down and
// after it is back; the hub's audit stream ends with each exactly once, in
// the agent's order; control events reach the agent's mirror; Provision
// at the hub's restart keeps the source; TrimSourced drops only what the
// hub holds.
func TestLeafAuditReachesTheHubOnceAcrossAnOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := startLeafHub(t, ctx)
	leaf := w.openLeaf(t, ctx, 0)
	added, err := jetstream.AddLeafSource(ctx, w.hub.JS, eventlog.AuditStream, "agent-1")
	require.NoError(t, err)
	require.True(t, added)
	added, err = jetstream.AddLeafSource(ctx, w.hub.JS, eventlog.AuditStream, "agent-1")
	require.NoError(t, err)
	require.False(t, added, "idempotent")

	var want []string
	appendN := func(from, n int) {
		for i := from; i < from+n; i++ {
			ev := auditEvent(i, schemas.TypeQuery)
			_, err := leaf.Audit.Append(ctx, ev)
			require.NoError(t, err, "event %d", i)
			want = append(want, ev.ID)
		}
	}
	appendN(0, 100)
	require.Equal(t, want, waitIDs(t, ctx, w.hub.Audit, 100))
	_, err = w.hub.Control.Append(ctx, eventlog.Event{ID: "c-1", Type: schemas.TypeRoleCreated, Source: "control", Actor: "admin",
		Time: time.Unix(1700000000, 0).UTC(), Subject: eventlog.ControlSubject(eventlog.KindRole, "r"), Data: []byte(`{"name":"r"}`)})
	require.NoError(t, err)
	require.Equal(t, []string{"c-1"}, waitIDs(t, ctx, leaf.Control, 1))

	// The hub goes away; the agent keeps appending.
	require.NoError(t, w.hub.Close(ctx))
	require.Eventually(t, func() bool { return !leaf.Server.LeafConnected() }, 30*time.Second, 20*time.Millisecond)
	appendN(100, 200)
	w.hub, err = jetstream.Open(ctx, w.hubCfg) // Provision keeps the source
	require.NoError(t, err)
	appendN(300, 100)
	got := waitIDs(t, ctx, w.hub.Audit, len(want))
	require.Equal(t, want, got, "each event once, in order")

	// A checkpoint is the trim mark.
	ck := auditEvent(400, schemas.TypeAuditCheckpoint)
	ck.Subject = eventlog.AuditSubject("", "", "agent-1", schemas.TypeAuditCheckpoint)
	ckSeq, err := leaf.Audit.Append(ctx, ck)
	require.NoError(t, err)
	appendN(401, 5)
	waitIDs(t, ctx, w.hub.Audit, len(want)+1)
	trimmed, err := leaf.TrimSourced(ctx, ck.Subject)
	require.NoError(t, err)
	require.Equal(t, ckSeq, trimmed)
	left := ids(t, ctx, leaf.Audit)
	require.Equal(t, append([]string{ck.ID}, want[len(want)-5:]...), left, "the checkpoint and what follows stay")
}

// TestLeafLocalStreamBoundRefuses: a full local stream refuses further
// events with ErrLocalFull and drops none.
func TestLeafLocalStreamBoundRefuses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := startLeafHub(t, ctx)
	leaf := w.openLeaf(t, ctx, 64<<10)
	var stored int
	var err error
	for i := 0; i < 10000; i++ {
		if _, err = leaf.Audit.Append(ctx, auditEvent(i, schemas.TypeQuery)); err != nil {
			break
		}
		stored++
	}
	require.ErrorIs(t, err, jetstream.ErrLocalFull)
	require.Greater(t, stored, 10)
	require.Len(t, ids(t, ctx, leaf.Audit), stored, "nothing dropped")
}

func TestLeafDomain(t *testing.T) {
	for id, want := range map[string]string{
		"db1-abcdef0123":             "tg-db1-abcdef0123",
		"db1.example.com-abcdef0123": "tg-db1_example_com-abcdef0123",
		"a b*>c":                     "tg-a_b__c",
	} {
		require.Equal(t, want, jetstream.LeafDomain(id), id)
	}
}
