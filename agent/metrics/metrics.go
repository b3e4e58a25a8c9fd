package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is the metrics and health listener (DESIGN §6's port, on
// loopback).
const DefaultAddr = "127.0.0.1:7090"

// Metrics are the agent's collectors.
type Metrics struct {
	ActiveSessions prometheus.Gauge
	Sessions       prometheus.Counter
	Queries        prometheus.Counter
	Rejections     *prometheus.CounterVec
	SessionsEnded  *prometheus.CounterVec
	AuditPublish   prometheus.Histogram
	AuditBacklog   prometheus.Gauge
	AuditFailures  prometheus.Counter
	AuditRefused   *prometheus.CounterVec
	QueriesRefused *prometheus.CounterVec
	Cancels        *prometheus.CounterVec
}

// New makes the collectors and registers them with reg (nil: not
// registered).
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		ActiveSessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "active_sessions", Help: "Database sessions relayed now."}),
		Sessions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "sessions_total", Help: "Database sessions started."}),
		Queries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "queries_total", Help: "Queries relayed (one per simple Query or extended Execute)."}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "rejections_total", Help: "Refused connections by reason code."}, []string{"reason"}),
		SessionsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "sessions_ended_total", Help: "Ended sessions by reason."}, []string{"reason"}),
		AuditPublish: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "audit_publish_seconds", Help: "Time until a synchronous audit publish was acknowledged.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5}}),
		AuditBacklog: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "audit_backlog", Help: "Audit events handed to the publisher and not yet acknowledged (synchronous publishes in flight)."}),
		AuditFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "audit_publish_failures_total", Help: "Synchronous audit publishes that failed (queries refused in strict mode)."}),
		AuditRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "audit_events_refused_total", Help: "Audit events the publisher did not take, by reason (spool_full, spool_failed, closed, too_large, unavailable, other)."}, []string{"reason"}),
		QueriesRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "queries_refused_total", Help: "Queries refused with SQLSTATE 58000 (not forwarded) because their audit events could not be made durable, by reason."}, []string{"reason"}),
		Cancels: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tollgate", Subsystem: "agent",
			Name: "cancel_requests_total", Help: "CancelRequests by outcome."}, []string{"outcome"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.ActiveSessions, m.Sessions, m.Queries, m.Rejections, m.SessionsEnded,
			m.AuditPublish, m.AuditBacklog, m.AuditFailures, m.AuditRefused, m.QueriesRefused, m.Cancels} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// Health reports whether the agent can serve; nil is healthy.
type Health func() error

// Handler serves /metrics from g and /healthz from health.
func Handler(g prometheus.Gatherer, health Health) http.Handler {
	mux := http.NewServeMux()
	if g != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if health != nil {
			if err := health(); err != nil {
				http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve serves h on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
