package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/agent/metrics"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// The agent's audit publisher is the relay's.
var _ relay.Publisher = (*auditpub.Publisher)(nil)

// publisher wraps the agent's audit publisher: metrics, and the count of
// queries in flight per session (a `query` without its `query.result` yet),
// which draining waits on.
type publisher struct {
	inner relay.Publisher
	m     *metrics.Metrics

	mu       sync.Mutex
	inflight map[string]int
}

func newPublisher(inner relay.Publisher, m *metrics.Metrics) *publisher {
	return &publisher{inner: inner, m: m, inflight: map[string]int{}}
}

// note counts the queries of evs taken and the results that end them. A
// batch holding both is the relay's record of refused queries (each with
// its "not executed" result): those did not run and are not counted.
func (p *publisher) note(evs []eventlog.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, results := kinds(evs)
	for i := range evs {
		switch evs[i].Type {
		case schemas.TypeQuery:
			if results == 0 {
				p.m.Queries.Inc()
			}
			p.inflight[sessionOf(evs[i].Subject)]++
		case schemas.TypeQueryResult:
			s := sessionOf(evs[i].Subject)
			if p.inflight[s] > 0 {
				p.inflight[s]--
			}
		}
	}
}

// kinds counts the query and query.result events of evs.
func kinds(evs []eventlog.Event) (queries, results int) {
	for i := range evs {
		switch evs[i].Type {
		case schemas.TypeQuery:
			queries++
		case schemas.TypeQueryResult:
			results++
		}
	}
	return queries, results
}

// refused counts events the publisher did not take, and the queries
// refused with them (a batch of queries only: the relay's record of
// refused queries, offered again with their results, is not counted
// twice), by reason.
func (p *publisher) refused(evs []eventlog.Event, err error) {
	reason := auditpub.Reason(err)
	p.m.AuditRefused.WithLabelValues(reason).Add(float64(len(evs)))
	if q, r := kinds(evs); q > 0 && r == 0 {
		p.m.QueriesRefused.WithLabelValues(reason).Add(float64(q))
	}
}

// sessionOf reads the session token of an audit subject
// (tollgate.audit.<db>.<user>.<session>.<type>).
func sessionOf(subject string) string {
	// The fifth of six dot-separated tokens, without splitting (this runs
	// for every audit event).
	rest := subject
	for range 4 {
		_, after, ok := strings.Cut(rest, ".")
		if !ok {
			return ""
		}
		rest = after
	}
	tok, after, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(after, ".") {
		return ""
	}
	return tok
}

func (p *publisher) busy(session string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight[eventlog.Token(session)] > 0
}

func (p *publisher) forget(session string) {
	p.mu.Lock()
	delete(p.inflight, eventlog.Token(session))
	p.mu.Unlock()
}

func (p *publisher) PublishSync(ctx context.Context, evs []eventlog.Event) error {
	p.m.AuditBacklog.Add(float64(len(evs)))
	start := time.Now()
	err := p.inner.PublishSync(ctx, evs)
	p.m.AuditBacklog.Sub(float64(len(evs)))
	if err != nil {
		p.m.AuditFailures.Inc()
		p.refused(evs, err)
		return err
	}
	p.m.AuditPublish.Observe(time.Since(start).Seconds())
	p.note(evs)
	return nil
}

func (p *publisher) TryPublishAsync(evs []eventlog.Event) error {
	if err := p.inner.TryPublishAsync(evs); err != nil {
		p.refused(evs, err)
		return err
	}
	p.note(evs)
	return nil
}

var _ relay.Publisher = (*publisher)(nil)

// record builds one audit event and has it taken without waiting for the
// log (durable in the spool once it returns). An event not taken is
// logged (without its data), counted and returned.
func (g *Gateway) record(typ, db, user, session string, data any) error {
	ev, err := g.builder.Build(typ, 1, user, eventlog.AuditSubject(db, user, session, typ), data)
	if err != nil {
		g.log.Error().Err(err).Str("type", typ).Msg("build audit event")
		return fmt.Errorf("build audit event: %w", err)
	}
	if err := g.pub.TryPublishAsync([]eventlog.Event{ev}); err != nil {
		g.log.Warn().Err(err).Str("type", typ).Str("session", session).Msg("audit event not recorded")
		return err
	}
	return nil
}

// recordSync builds and publishes one audit event, waiting for the ack.
func (g *Gateway) recordSync(ctx context.Context, typ, db, user, session string, data any) error {
	ev, err := g.builder.Build(typ, 1, user, eventlog.AuditSubject(db, user, session, typ), data)
	if err != nil {
		return err
	}
	return g.pub.PublishSync(ctx, []eventlog.Event{ev})
}

// chainStart finds the last chained audit event of source in stream, so
// a restarted agent continues its chain. It scans backwards in windows.
func chainStart(ctx context.Context, stream eventlog.Reader, source string) (uint64, string, error) {
	last, err := stream.LastSeq(ctx)
	if err != nil {
		return 0, "", err
	}
	const window = 4096
	for hi := last; hi > 0; {
		lo := uint64(1)
		if hi > window {
			lo = hi - window + 1
		}
		var seq uint64
		var hash string
		err := stream.Read(ctx, eventlog.Query{FromSeq: lo, ToSeq: hi}, func(r eventlog.Record) error {
			if r.Event.Source == source && r.Event.Hash != "" && r.Event.Seq > seq {
				seq, hash = r.Event.Seq, r.Event.Hash
			}
			return nil
		})
		if err != nil {
			return 0, "", err
		}
		if seq > 0 {
			return seq, hash, nil
		}
		hi = lo - 1
	}
	return 0, "", nil
}
