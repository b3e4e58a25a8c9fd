package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/schemas"
)

// What a client that proved nothing can make the agent record is bounded
// (agent/recordlimit): a refusal before the client cert was verified, and
// a CancelRequest that was not forwarded. Per source, the first few of a
// window are recorded in full (and logged); the rest are counted, and one
// summary event per window and source carries `suppressed: N`.

// cancelRecord is a session.cancel with the session's names for its
// subject.
type cancelRecord struct {
	ev       schemas.SessionCancel
	db, user string
}

// recordRejection counts, logs and records one refused connection.
func (g *Gateway) recordRejection(rej *frontdoor.Rejection) {
	// Counted once handled (recorded, or counted into a summary).
	defer g.m.Rejections.WithLabelValues(rej.Event.Code).Inc()
	if !rej.Authenticated {
		// A summary describes the last refusal without its parameters: the
		// limiter holds one per source, and its memory stays small.
		last := rej.Event
		last.Params = nil
		ok, sums := g.floods.Allow(schemas.TypeSessionRejected, rej.Event.ClientAddr, last)
		g.recordSummaries(sums)
		if !ok {
			return
		}
	}
	_ = g.record(schemas.TypeSessionRejected, rej.Event.Database, rej.Event.User, rej.Event.SessionID, rej.Event)
	g.log.Info().Str("session", rej.Event.SessionID).Str("user", rej.Event.User).Str("code", rej.Event.Code).
		Str("reason", rej.Event.Reason).Msg("session rejected")
}

// recordCancel records one CancelRequest's outcome; one that was not
// forwarded (no match, rate-limited, failed) is subject to the limit.
func (g *Gateway) recordCancel(c cancelRecord, outcome string) {
	// Counted once handled (recorded, or counted into a summary).
	defer g.m.Cancels.WithLabelValues(outcome).Inc()
	if !c.ev.Forwarded {
		ok, sums := g.floods.Allow(schemas.TypeSessionCancel, c.ev.ClientAddr, c)
		g.recordSummaries(sums)
		if !ok {
			return
		}
	}
	_ = g.record(schemas.TypeSessionCancel, c.db, c.user, c.ev.SessionID, c.ev)
}

// recordSummaries records one event per summary.
func (g *Gateway) recordSummaries(sums []recordlimit.Summary) {
	for _, s := range sums {
		from := s.Source
		if s.Overflow {
			from = fmt.Sprintf("more sources than the %d tracked at once", g.opt.Floods.MaxSources)
		}
		switch last := s.Last.(type) {
		case schemas.SessionRejected:
			last.Suppressed = s.Suppressed
			if s.Overflow {
				last.Reason += fmt.Sprintf(" (summary of refusals from %s; the last came from this address)", from)
			}
			_ = g.record(schemas.TypeSessionRejected, last.Database, last.User, last.SessionID, last)
		case cancelRecord:
			last.ev.Suppressed = s.Suppressed
			if s.Overflow {
				last.ev.Reason += fmt.Sprintf(" (summary of cancel requests from %s; the last came from this address)", from)
			}
			_ = g.record(schemas.TypeSessionCancel, last.db, last.user, last.ev.SessionID, last.ev)
		default:
			g.log.Error().Str("kind", s.Kind).Msgf("flood summary of unknown payload %T", s.Last)
			continue
		}
		g.log.Warn().Str("type", s.Kind).Str("source", from).Int("suppressed", s.Suppressed).
			Dur("window", g.floods.Window()).Msg("events from an unauthenticated source counted, not recorded one by one (rate limit)")
	}
}

// sweepFloods records the summaries of windows that ended, until ctx ends.
func (g *Gateway) sweepFloods(ctx context.Context) {
	every := min(max(g.floods.Window()/4, 10*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.recordSummaries(g.floods.Due())
		}
	}
}
