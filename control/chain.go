package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// ChainSession is the session token of every audit event control writes:
// its subjects are tollgate.audit.<db>.<user>.control.<type>, so control's
// events are one subject filter (ChainFilter) and the head of its hash
// chain is the last message on that filter.
const ChainSession = Source

// ChainFilter matches every audit event control writes.
var ChainFilter = eventlog.AuditFilter("", "", ChainSession, "")

// chain stamps ev with control's audit hash chain (eventlog.Chainer). On
// first use the chain is resumed from the last event on ChainFilter: one
// last-message lookup (JetStream answers wildcard last-by-subject from its
// subject index), then a read of that one record. A Stream that cannot
// answer the wildcard lookup (memlog) falls back to a filtered read of
// control's events only. Callers hold a.mu.
func (a *auditor) chain(ctx context.Context, ev *eventlog.Event) error {
	if err := a.resume(ctx); err != nil {
		return err
	}
	return a.chainer.Next(ev)
}

// resume loads the chain head on first use. When the head is a
// checkpoint (control stopped cleanly), it counts as checkpointed.
func (a *auditor) resume(ctx context.Context) error {
	if a.chainer != nil {
		return nil
	}
	seq, hash, typ, head, err := a.chainHead(ctx)
	if err != nil {
		return fmt.Errorf("resume audit chain: %w", err)
	}
	a.chainer = eventlog.NewChainer(seq, hash)
	a.headStreamSeq = head
	if typ == schemas.TypeAuditCheckpoint {
		a.checkpointed = seq
	}
	return nil
}

// chainHead is the chain's last event on ChainFilter: its chain sequence,
// hash and type, and head, its stream sequence (what the next append
// expects to be the filter's last record).
func (a *auditor) chainHead(ctx context.Context) (seq uint64, hash, typ string, head uint64, err error) {
	q := eventlog.Query{Subjects: []string{ChainFilter}}
	last, err := a.s.cfg.Audit.LastSubjectSeq(ctx, ChainFilter)
	if err != nil {
		return 0, "", "", 0, err
	}
	if last > 0 {
		q.FromSeq, q.ToSeq = last, last
	}
	err = a.s.cfg.Audit.Read(ctx, q, func(r eventlog.Record) error {
		head = r.StreamSeq
		if r.Event.Source == Source && r.Event.Seq > 0 {
			seq, hash, typ = r.Event.Seq, r.Event.Hash, r.Event.Type
		}
		return nil
	})
	return seq, hash, typ, head, err
}

// appendChained appends ev, chained, onto the head this process chained
// from: when another control appended to the chain meanwhile (several
// controls on one log), the append conflicts, and ev is chained again onto
// the head read back from the stream, a few times. Any failure drops the
// chain state, so the next event resumes from the stream. Callers hold a.mu.
func (a *auditor) appendChained(ctx context.Context, ev eventlog.Event) (eventlog.Event, error) {
	const attempts = 5
	var err error
	for range attempts {
		try := ev
		if err = a.chain(ctx, &try); err != nil {
			break
		}
		if v := a.s.cfg.Validator; v != nil {
			if err = v.Validate(&try); err != nil {
				break
			}
		}
		var seq uint64
		seq, err = a.s.cfg.Audit.Append(ctx, try, eventlog.ExpectLastSeqOn(ChainFilter, a.headStreamSeq))
		if err == nil {
			a.headStreamSeq = seq
			return try, nil
		}
		a.chainer = nil
		if !errors.Is(err, eventlog.ErrConflict) {
			break
		}
	}
	a.chainer = nil
	return ev, err
}
