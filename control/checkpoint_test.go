package control

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

func auditEvents(t *testing.T, f *fixture) []eventlog.Event {
	t.Helper()
	var out []eventlog.Event
	require.NoError(t, f.aud.Read(context.Background(), eventlog.Query{}, func(r eventlog.Record) error {
		out = append(out, r.Event)
		return nil
	}))
	return out
}

// TestCheckpoint: control signs the head of its audit chain with its host
// key, once per move of the head, as the next event of the chain; the cert
// it signs with is on the control stream first (once); a restarted control
// whose head is a checkpoint writes none until its chain moves.
func TestCheckpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.svc.Checkpoint(ctx, schemas.CheckpointInterval))
	before := auditEvents(t, f)
	_, err := f.svc.Certs().Sign(ctx, f.admin, wire.SignRequest{Format: "db", Hosts: []string{"pg"}, TTL: time.Hour})
	require.NoError(t, err)
	require.NoError(t, f.svc.Checkpoint(ctx, schemas.CheckpointInterval))
	evs := auditEvents(t, f)
	require.Greater(t, len(evs), len(before))
	cp := evs[len(evs)-1]
	head := evs[len(evs)-2]
	require.Equal(t, schemas.TypeAuditCheckpoint, cp.Type)
	require.Equal(t, Source, cp.Source)
	require.Equal(t, head.Seq+1, cp.Seq)
	require.Equal(t, head.Hash, cp.Prev)
	require.Equal(t, eventlog.AuditSubject("", "", ChainSession, schemas.TypeAuditCheckpoint), cp.Subject)
	var data schemas.AuditCheckpoint
	require.NoError(t, json.Unmarshal(cp.Data, &data))
	require.Equal(t, schemas.AuditCheckpoint{Source: Source, Seq: head.Seq, Hash: head.Hash, Time: cp.Time, Reason: schemas.CheckpointInterval,
		IntervalMS: DefaultCheckpointInterval.Milliseconds(), CertSerial: data.CertSerial, Alg: eventlog.SigECDSA, Signature: data.Signature}, data)

	// The key is the host cert recorded on the control stream.
	var recs []schemas.ControlHostCertIssued
	require.NoError(t, f.ctl.Read(ctx, eventlog.Query{Subjects: []string{hostCertSubject}}, func(r eventlog.Record) error {
		require.Equal(t, schemas.TypeControlHostCertIssued, r.Event.Type)
		var rec schemas.ControlHostCertIssued
		require.NoError(t, json.Unmarshal(r.Event.Data, &rec))
		recs = append(recs, rec)
		return nil
	}))
	require.Len(t, recs, 1)
	require.Equal(t, data.CertSerial, recs[0].Serial)
	require.NotEmpty(t, recs[0].KeyID)
	cert, err := pki.ParseCertPEM([]byte(recs[0].CertPEM))
	require.NoError(t, err)
	require.Equal(t, Source, cert.Subject.CommonName)
	sig, err := base64.StdEncoding.DecodeString(data.Signature)
	require.NoError(t, err)
	require.NoError(t, eventlog.VerifyCheckpoint(cert.PublicKey, data.Alg, eventlog.CheckpointMessage(Source, data.Seq, data.Hash, data.Time), sig))

	// Nothing moved: nothing written, also after a restart.
	require.NoError(t, f.svc.Checkpoint(ctx, schemas.CheckpointShutdown))
	require.Len(t, auditEvents(t, f), len(evs))
	f.cancel()
	f.start(t)
	require.NoError(t, f.svc.Checkpoint(ctx, schemas.CheckpointInterval))
	require.Len(t, auditEvents(t, f), len(evs), "the head is the last checkpoint")
	_, err = f.svc.Certs().Sign(ctx, f.admin, wire.SignRequest{Format: "db", Hosts: []string{"pg"}, TTL: time.Hour})
	require.NoError(t, err)
	require.NoError(t, f.svc.Checkpoint(ctx, schemas.CheckpointShutdown))
	evs2 := auditEvents(t, f)
	require.Equal(t, schemas.TypeAuditCheckpoint, evs2[len(evs2)-1].Type)
	rep, err := eventlog.Verify(ctx, f.aud, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
	n := 0
	require.NoError(t, f.ctl.Read(ctx, eventlog.Query{Subjects: []string{hostCertSubject}}, func(eventlog.Record) error { n++; return nil }))
	require.Equal(t, 1, n, "the same cert is recorded once")
}
