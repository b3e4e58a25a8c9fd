package auditpub_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// hostCert is a self-signed stand-in for an agent's host cert.
func hostCert(t *testing.T, cn string) *tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x7f01), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}
}

type agentRig struct {
	t     *testing.T
	st    *memlog.Stream
	pub   *auditpub.Publisher
	ck    *auditpub.Checkpointer
	cert  *tls.Certificate
	b     *eventlog.Builder
	after uint64 // stream seq read so far
}

func newAgentRig(t *testing.T, interval time.Duration) *agentRig {
	t.Helper()
	r := &agentRig{t: t, st: memlog.New(eventlog.AuditStream), cert: hostCert(t, "agent-1"), b: eventlog.NewBuilder("agent-1")}
	ck, err := auditpub.NewCheckpointer(auditpub.CheckpointOptions{Interval: interval, Builder: r.b,
		Cert: func() *tls.Certificate { return r.cert }})
	require.NoError(t, err)
	r.ck = ck
	r.pub = auditpub.New(r.st, ck.Wrap(eventlog.NewChainer(0, "")), auditpub.Options{})
	t.Cleanup(func() { _ = r.pub.Close(context.Background()) })
	return r
}

func (r *agentRig) publish(typ string, data any) {
	r.t.Helper()
	ev, err := r.b.Build(typ, 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", typ), data)
	require.NoError(r.t, err)
	require.NoError(r.t, r.pub.PublishSync(context.Background(), []eventlog.Event{ev}))
}

func (r *agentRig) events() []eventlog.Event {
	r.t.Helper()
	var out []eventlog.Event
	require.NoError(r.t, r.st.Read(context.Background(), eventlog.Query{}, func(rec eventlog.Record) error {
		out = append(out, rec.Event)
		return nil
	}))
	return out
}

// checkCheckpoint asserts that evs[i] is a checkpoint signing evs[i-1]
// with the rig's host key, for reason.
func (r *agentRig) checkCheckpoint(evs []eventlog.Event, i int, reason string) {
	r.t.Helper()
	cp, head := evs[i], evs[i-1]
	require.Equal(r.t, schemas.TypeAuditCheckpoint, cp.Type)
	require.Equal(r.t, eventlog.AuditSubject("", "", "agent-1", schemas.TypeAuditCheckpoint), cp.Subject)
	require.Equal(r.t, head.Seq+1, cp.Seq)
	require.Equal(r.t, head.Hash, cp.Prev)
	var d schemas.AuditCheckpoint
	require.NoError(r.t, json.Unmarshal(cp.Data, &d))
	require.Equal(r.t, "agent-1", d.Source)
	require.Equal(r.t, head.Seq, d.Seq)
	require.Equal(r.t, head.Hash, d.Hash)
	require.True(r.t, cp.Time.Equal(d.Time))
	require.Equal(r.t, reason, d.Reason)
	require.Equal(r.t, "7f01", d.CertSerial)
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	require.NoError(r.t, err)
	require.NoError(r.t, eventlog.VerifyCheckpoint(r.cert.Leaf.PublicKey, d.Alg, eventlog.CheckpointMessage(d.Source, d.Seq, d.Hash, d.Time), sig))
	h, err := eventlog.EventHash(&cp)
	require.NoError(r.t, err)
	require.Equal(r.t, cp.Hash, h, "the checkpoint's own hash covers its filled data")
}

// TestCheckpointSignsItsPrev: a checkpoint is the next event of the chain
// and signs the event before it with the host key; with no event since,
// none is written; the stored chain and every schema check pass.
func TestCheckpointSignsItsPrev(t *testing.T) {
	t.Parallel()
	r := newAgentRig(t, time.Hour)
	ctx := context.Background()
	require.NoError(t, r.ck.Checkpoint(ctx, r.pub, schemas.CheckpointShutdown), "an empty chain: nothing to sign")
	require.Empty(t, r.events())
	r.publish(schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 1, Kind: "simple", Statement: "SELECT 1 WHERE 1 < 2"})
	r.publish(schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 2, Kind: "simple", Statement: "SELECT 2"})
	require.NoError(t, r.ck.Checkpoint(ctx, r.pub, schemas.CheckpointShutdown))
	require.NoError(t, r.ck.Checkpoint(ctx, r.pub, schemas.CheckpointShutdown), "the head did not move")
	evs := r.events()
	require.Len(t, evs, 3)
	r.checkCheckpoint(evs, 2, schemas.CheckpointShutdown)

	v, err := schemas.NewValidator()
	require.NoError(t, err)
	for i := range evs {
		require.NoError(t, v.Validate(&evs[i]), evs[i].Type)
	}
	rep, err := eventlog.Verify(ctx, r.st, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)

	// A renewed host cert (another key) signs the next one.
	r.cert = hostCert(t, "agent-1")
	r.publish(schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 3, Kind: "simple", Statement: "SELECT 3"})
	require.NoError(t, r.ck.Checkpoint(ctx, r.pub, schemas.CheckpointInterval))
	r.checkCheckpoint(r.events(), 4, schemas.CheckpointInterval)
}

// TestCheckpointAfterSessionEnd: Run writes a checkpoint after each
// session.ended, without waiting for the interval.
func TestCheckpointAfterSessionEnd(t *testing.T) {
	t.Parallel()
	r := newAgentRig(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.ck.Run(ctx, r.pub)
	}()
	t.Cleanup(func() { cancel(); <-done })
	r.publish(schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s1", User: "alice", Database: "roach"})
	r.publish(schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: "s1", Reason: schemas.EndClient})
	require.Eventually(t, func() bool { return len(r.events()) == 3 }, 30*time.Second, 5*time.Millisecond, "a checkpoint follows the session's end")
	r.checkCheckpoint(r.events(), 2, schemas.CheckpointSessionEnd)
}

// TestCheckpointAtInterval: while events arrive, Run signs the head at the
// interval; an idle chain gets no more checkpoints.
func TestCheckpointAtInterval(t *testing.T) {
	t.Parallel()
	r := newAgentRig(t, 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.ck.Run(ctx, r.pub)
	}()
	r.publish(schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 1, Kind: "simple", Statement: "SELECT 1"})
	require.Eventually(t, func() bool { return len(r.events()) == 2 }, 30*time.Second, 5*time.Millisecond, "a checkpoint at the interval")
	cancel()
	<-done
	evs := r.events()
	require.Len(t, evs, 2, "an idle chain is signed once")
	r.checkCheckpoint(evs, 1, schemas.CheckpointInterval)
}
