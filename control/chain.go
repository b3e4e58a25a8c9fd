package control

import (
	"context"
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
)

// chain stamps ev with control's audit hash chain (eventlog.Chainer). The
// chain is resumed from the last audit event control wrote, found by
// reading the audit stream once, on first use. Callers hold a.mu.
func (a *auditor) chain(ctx context.Context, ev *eventlog.Event) error {
	if a.chainer == nil {
		var (
			seq  uint64
			hash string
		)
		err := a.s.cfg.Audit.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
			if r.Event.Source == Source && r.Event.Seq > 0 {
				seq, hash = r.Event.Seq, r.Event.Hash
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("resume audit chain: %w", err)
		}
		a.chainer = eventlog.NewChainer(seq, hash)
	}
	return a.chainer.Next(ev)
}
