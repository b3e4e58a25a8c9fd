package auditpub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
)

// probeEvery bounds how often Health probes a failing spool.
const probeEvery = time.Second

// refusal is why the Publisher refuses events now: the spool (or the
// memory queue) is full, or the spool cannot be written.
type refusal struct {
	err       error
	since     time.Time
	events    uint64 // refused since
	need      int64  // spool bytes the last batch refused as too many needed
	lastProbe time.Time
}

// refusedLocked notes a refusal; the first of a run is logged (the rest
// are counted, and logged when it ends), so a full disk is never silent
// and never floods the log.
func (p *Publisher) refusedLocked(err error, n int) {
	if p.refused.err == nil {
		p.refused = refusal{since: time.Now(), need: p.refused.need}
		p.opt.Logger.Error().Err(err).Msg("audit events refused: queries are refused until the audit spool takes events again")
	}
	p.refused.err = err
	p.refused.events += uint64(n)
}

// recoveredLocked ends a run of refusals.
func (p *Publisher) recoveredLocked() {
	p.opt.Logger.Warn().Uint64("refused_events", p.refused.events).Dur("for", time.Since(p.refused.since)).
		Msg("audit spool takes events again")
	p.refused = refusal{}
}

// Reason names why err refused events, for metrics labels: "spool_full"
// (the spool or memory queue is full), "spool_failed" (the spool cannot be
// written), "closed", "too_large", "unavailable" (the log did not store
// them in time: strict publishing), or "other".
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrBacklog):
		return "spool_full"
	case errors.Is(err, ErrSpool):
		return "spool_failed"
	case errors.Is(err, eventlog.ErrClosed):
		return "closed"
	case errors.Is(err, eventlog.ErrTooLarge):
		return "too_large"
	case errors.Is(err, eventlog.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "unavailable"
	}
	return "other"
}

// Health returns why the Publisher refuses events now (ErrBacklog: the
// spool or the memory queue is full; ErrSpool: the spool cannot be
// written; ErrClosed), or nil while it takes them. A full spool clears as
// soon as stored events free the room the last refused batch needed; a
// failing one is probed (a small write and fsync in its directory, at
// most once a second), so that it clears once the disk works again even
// when no traffic comes to try it.
func (p *Publisher) Health() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	r, sp := p.refused, p.opt.Spool
	if r.err == nil {
		p.mu.Unlock()
		return nil
	}
	var ok bool
	switch {
	case errors.Is(r.err, ErrBacklog):
		if sp != nil {
			ok = sp.Room() >= r.need
		} else {
			ok = len(p.cache)-p.chead < p.opt.MaxQueue
		}
	case sp != nil && time.Since(r.lastProbe) >= probeEvery:
		p.refused.lastProbe = time.Now()
		p.mu.Unlock()
		perr := sp.Probe()
		p.mu.Lock()
		ok = perr == nil && p.refused.err == r.err
	}
	if ok {
		p.recoveredLocked()
	}
	err := p.refused.err
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit events refused for %s: %w", time.Since(r.since).Round(time.Second), err)
	}
	return nil
}
