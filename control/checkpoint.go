package control

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// DefaultCheckpointInterval is how often control signs the head of its
// audit chain while it moves (Config.CheckpointInterval).
const DefaultCheckpointInterval = 10 * time.Second

// hostCertSubject is where control records its own host certs
// (control.host_cert_issued).
var hostCertSubject = eventlog.ControlSubject(eventlog.KindHost, Source)

// RunCheckpoints signs the head of control's audit chain every
// Config.CheckpointInterval while it moves, until ctx ends. Call
// Checkpoint(…, schemas.CheckpointShutdown) after it returns, once nothing
// else writes audit events.
//
// It first records control's host cert on the control stream (as
// Checkpoint does when needed), so that the checkpoint at shutdown, when
// the control stream's follower may already be stopped, needs no append
// there.
func (s *Service) RunCheckpoints(ctx context.Context) {
	if cert, err := s.ServerCertificate(ctx); err != nil {
		s.log.Error().Err(err).Msg("audit checkpoints: control's host cert")
	} else if err := s.recordHostCert(ctx, cert.Leaf); err != nil && ctx.Err() == nil {
		s.log.Error().Err(err).Msg("audit checkpoints (recorded at the first checkpoint)")
	}
	t := time.NewTicker(s.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Checkpoint(ctx, schemas.CheckpointInterval); err != nil && ctx.Err() == nil {
				s.log.Error().Err(err).Msg("audit checkpoint (retried at the next interval)")
			}
		}
	}
}

// Checkpoint appends an audit.checkpoint signing the head of control's
// audit chain with control's host key, unless the head has not moved since
// the last checkpoint (or the chain is empty). The host cert it signs with
// is first recorded on the control stream (control.host_cert_issued) if it
// is not yet, so the signature can be checked from there.
func (s *Service) Checkpoint(ctx context.Context, reason string) error {
	a := s.audit
	a.mu.Lock()
	err := a.resume(ctx)
	moved := err == nil && a.checkpointed != headSeq(a.chainer)
	a.mu.Unlock()
	if err != nil || !moved {
		return err
	}
	// The cert may be issued (cert.issued, through the auditor's lock),
	// and is recorded on the control stream, before the lock is taken.
	cert, err := s.ServerCertificate(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: control's host cert: %w", err)
	}
	if err := s.recordHostCert(ctx, cert.Leaf); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	key, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("checkpoint: control's host key (%T) cannot sign", cert.PrivateKey)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// A failed append meanwhile dropped the chain state: read it again.
	if err := a.resume(ctx); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	seq, hash := a.chainer.Last()
	if seq == 0 || seq == a.checkpointed {
		return nil
	}
	ev, err := s.builder.Build(schemas.TypeAuditCheckpoint, 1, Source,
		eventlog.AuditSubject("", "", ChainSession, schemas.TypeAuditCheckpoint), json.RawMessage(`{}`))
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	alg, sig, err := eventlog.SignCheckpoint(key, eventlog.CheckpointMessage(Source, seq, hash, ev.Time))
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if ev.Data, err = json.Marshal(schemas.AuditCheckpoint{Source: Source, Seq: seq, Hash: hash, Time: ev.Time, Reason: reason,
		IntervalMS: s.cfg.CheckpointInterval.Milliseconds(), CertSerial: cert.Leaf.SerialNumber.Text(16), Alg: alg,
		Signature: base64.StdEncoding.EncodeToString(sig)}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// It signs this head: if another control moved the chain meanwhile, the
	// append conflicts and the next checkpoint signs the new head.
	if err := a.chainer.Next(&ev); err != nil {
		a.chainer = nil
		return fmt.Errorf("checkpoint: %w", err)
	}
	if s.cfg.Validator != nil {
		if err := s.cfg.Validator.Validate(&ev); err != nil {
			a.chainer = nil
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	stored, err := s.cfg.Audit.Append(context.WithoutCancel(ctx), ev, eventlog.ExpectLastSeqOn(ChainFilter, a.headStreamSeq))
	if err != nil {
		a.chainer = nil
		return fmt.Errorf("checkpoint: append: %w", err)
	}
	a.headStreamSeq = stored
	a.checkpointed = ev.Seq
	return nil
}

func headSeq(c *eventlog.Chainer) uint64 {
	seq, _ := c.Last()
	return seq
}

// recordHostCert appends control.host_cert_issued for leaf unless the
// control stream's last record of control's host certs is that cert.
func (s *Service) recordHostCert(ctx context.Context, leaf *x509.Certificate) error {
	s.hostCertMu.Lock()
	defer s.hostCertMu.Unlock()
	serial := leaf.SerialNumber.Text(16)
	if s.hostCertRecorded == serial {
		return nil
	}
	// Another control may record its own cert at the same moment (the
	// append is conditional on the subject's last record): read again and
	// retry, so no checkpoint is signed with a cert the stream lacks.
	for attempt := 0; ; attempt++ {
		last, err := s.lastRecordedHostCert(ctx)
		if err != nil {
			return fmt.Errorf("record control's host cert: %w", err)
		}
		if last == serial {
			break
		}
		err = s.appendHostCert(ctx, leaf, serial)
		if err == nil {
			s.log.Info().Str("serial", serial).Msg("recorded control's host cert on the control stream (audit checkpoints are verified with it)")
			break
		}
		if !isCode(err, CodeConflict) || attempt >= 9 {
			return fmt.Errorf("record control's host cert: %w", err)
		}
		// The append is checked against this control's view: let it take
		// the other control's record first.
		if err := s.Sync(ctx); err != nil {
			return fmt.Errorf("record control's host cert: %w", err)
		}
	}
	s.hostCertRecorded = serial
	return nil
}

// appendHostCert appends control.host_cert_issued for leaf.
func (s *Service) appendHostCert(ctx context.Context, leaf *x509.Certificate, serial string) error {
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))
	_, err := s.change(ctx, Source, eventlog.KindHost, Source, schemas.TypeControlHostCertIssued, func(st *projections.State) (any, error) {
		rec := schemas.ControlHostCertIssued{Serial: serial, CertPEM: certPEM, NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC()}
		if ca, ok := st.CAs[schemas.CAHost]; ok {
			for _, k := range append([]projections.CAKey{ca.Active}, nextKey(ca)...) {
				if signedBy(leaf, k) {
					rec.KeyID = k.KeyID
				}
			}
		}
		return rec, nil
	})
	return err
}

func nextKey(ca *projections.CA) []projections.CAKey {
	if ca.Next == nil {
		return nil
	}
	return []projections.CAKey{*ca.Next}
}

// lastRecordedHostCert returns the serial of the last control host cert
// recorded on the control stream ("" when none).
func (s *Service) lastRecordedHostCert(ctx context.Context) (string, error) {
	seq, err := s.cfg.Control.LastSubjectSeq(ctx, hostCertSubject)
	if err != nil || seq == 0 {
		return "", err
	}
	var serial string
	err = s.cfg.Control.Read(ctx, eventlog.Query{Subjects: []string{hostCertSubject}, FromSeq: seq, ToSeq: seq}, func(r eventlog.Record) error {
		var rec schemas.ControlHostCertIssued
		if err := json.Unmarshal(r.Event.Data, &rec); err == nil {
			serial = rec.Serial
		}
		return nil
	})
	return serial, err
}
