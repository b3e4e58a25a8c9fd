package control

import (
	"context"
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
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
	if a.chainer == nil {
		seq, hash, err := a.chainHead(ctx)
		if err != nil {
			return fmt.Errorf("resume audit chain: %w", err)
		}
		a.chainer = eventlog.NewChainer(seq, hash)
	}
	return a.chainer.Next(ev)
}

func (a *auditor) chainHead(ctx context.Context) (seq uint64, hash string, err error) {
	q := eventlog.Query{Subjects: []string{ChainFilter}}
	last, err := a.s.cfg.Audit.LastSubjectSeq(ctx, ChainFilter)
	if err != nil {
		return 0, "", err
	}
	if last > 0 {
		q.FromSeq, q.ToSeq = last, last
	}
	err = a.s.cfg.Audit.Read(ctx, q, func(r eventlog.Record) error {
		if r.Event.Source == Source && r.Event.Seq > 0 {
			seq, hash = r.Event.Seq, r.Event.Hash
		}
		return nil
	})
	return seq, hash, err
}
