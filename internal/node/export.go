package node

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/lease"
	"github.com/tollgate-db/tollgate/control/wire"
	eventlogjs "github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/subscriber"
	"github.com/tollgate-db/tollgate/internal/auditview"
)

// exportComponent runs the export subscribers of the `export:` section.
type exportComponent struct {
	cfg export.Config
	js  jetstream.JetStream
	reg *prometheus.Registry
	log zerolog.Logger
	// running are the subscribers once started (for status).
	running atomic.Pointer[subscriber.Manager]
	// leases, when set, is what the subscribers run under.
	leases *lease.Leases
}

// newExport is the export component of cfg (nil, nil when there is no
// export section or it has no sinks).
func newExport(cfg *export.Config, lg *eventlogjs.Log, reg *prometheus.Registry, log zerolog.Logger) (*exportComponent, error) {
	if cfg == nil || len(cfg.Sinks) == 0 {
		return nil, nil
	}
	if lg.JS == nil {
		return nil, errors.New("export: the event log has no JetStream connection")
	}
	return &exportComponent{cfg: *cfg, js: lg.JS, reg: reg, log: log.With().Str("component", "export").Logger()}, nil
}

func (e *exportComponent) Name() string { return "export" }

// Run runs the subscribers until ctx ends; with leases (several controls
// on the cluster), only while this process holds the export lease.
func (e *exportComponent) Run(ctx context.Context) error {
	return underLease(ctx, e.leases, leaseExport, e.run)
}

func (e *exportComponent) run(ctx context.Context) error {
	m, err := subscriber.Start(ctx, e.js, e.cfg, subscriber.Options{Logger: e.log, Registerer: e.reg, Text: auditview.Sentence})
	if err != nil {
		return err
	}
	e.running.Store(m)
	defer e.running.Store(nil)
	e.log.Info().Int("sinks", len(e.cfg.Sinks)).Msg("export subscribers running")
	<-ctx.Done()
	return m.Wait()
}

// status is the state of this process's export subscribers for control's
// API (tollctl export status): each consumer's delivered and acked stream
// sequences come from the server.
func (e *exportComponent) status(ctx context.Context) wire.ExportStatus {
	out := wire.ExportStatus{Configured: true}
	m := e.running.Load()
	if m == nil {
		return out // starting
	}
	for _, s := range m.Status(ctx) {
		sink := wire.ExportSink{Name: s.Sink, Type: s.Type, Format: s.Format}
		for _, x := range s.Streams {
			st := wire.ExportStream{Stream: x.Stream, Consumer: x.Consumer, Lag: x.Lag, Exported: x.Exported,
				Retrying: x.Retrying, LastError: x.LastError, LastErrorAt: x.LastErrorAt, LastSuccess: x.LastSuccess}
			st.DeliveredSeq, st.AckedSeq = e.consumerSeqs(ctx, x)
			sink.Streams = append(sink.Streams, st)
		}
		out.Sinks = append(out.Sinks, sink)
	}
	return out
}

// consumerSeqs asks the server for a consumer's delivered and acked stream
// sequences (zero when it does not answer).
func (e *exportComponent) consumerSeqs(ctx context.Context, x subscriber.StreamStatus) (delivered, acked uint64) {
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := e.js.Consumer(ictx, x.Stream, x.Consumer)
	if err != nil {
		return 0, 0
	}
	info, err := c.Info(ictx)
	if err != nil {
		return 0, 0
	}
	return info.Delivered.Stream, info.AckFloor.Stream
}
