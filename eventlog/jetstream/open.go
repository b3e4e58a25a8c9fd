package jetstream

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

// Log is an open event log: both streams on one connection.
type Log struct {
	Control eventlog.Stream
	Audit   eventlog.Stream
	// Conn and JS are exported for durable consumers (the exporter) and
	// administration.
	Conn *nats.Conn
	JS   jetstream.JetStream
	// Server is the embedded server, nil for an external one.
	Server *embedded.Server
	// Hub is the hub's JetStream across the leaf node of a leaf agent's
	// log (OpenLeaf), nil otherwise.
	Hub       jetstream.JetStream
	leafAudit string // the local audit stream's name (OpenLeaf)
}

// ExternalPing is how often a connection to an external NATS (an agent's
// to control's, or to a cluster) pings it.
const ExternalPing = 10 * time.Second

// Open connects to the configured server (starting the embedded one when
// cfg.URL is empty), provisions both streams (unless cfg.Bind) and opens
// them. cfg.URL may list several seed URLs of a cluster, comma-separated.
// Bound streams (cfg.Bind) are checked as checkBound says; provisioned ones
// as Provision does.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	replicasAsked := cfg.Replicas > 0
	cfg = cfg.WithDefaults()
	l := &Log{}
	var err error
	if cfg.URL == "" {
		ec := cfg.Embedded
		if ec.StoreDir == "" {
			if cfg.DataDir == "" {
				return nil, errors.New("open event log: set DataDir for the embedded server or URL for an external one")
			}
			ec.StoreDir = filepath.Join(cfg.DataDir, "jetstream")
		}
		if ec.Logger.GetLevel() == cfg.Logger.GetLevel() {
			ec.Logger = cfg.Logger
		}
		if l.Server, err = embedded.Start(ctx, ec); err != nil {
			return nil, fmt.Errorf("open event log: %w", err)
		}
		l.Conn, err = l.Server.Connect(nats.Name("tollgate"), nats.MaxReconnects(-1))
	} else {
		opts := []nats.Option{nats.Name("tollgate"), nats.MaxReconnects(-1)}
		opts = append(opts, connectionLog(cfg.Logger)...)
		if cfg.CredsFile != "" {
			opts = append(opts, nats.UserCredentials(cfg.CredsFile))
		}
		if cfg.CAFile != "" {
			opts = append(opts, nats.RootCAs(cfg.CAFile))
		}
		if cfg.CertFile != "" || cfg.KeyFile != "" {
			opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
		}
		l.Conn, err = nats.Connect(cfg.URL, opts...)
	}
	if err != nil {
		l.Close(ctx)
		return nil, fmt.Errorf("open event log: connect: %w", mapErr(err))
	}
	if l.JS, err = jetstream.New(l.Conn); err != nil {
		l.Close(ctx)
		return nil, fmt.Errorf("open event log: %w", err)
	}
	if cfg.Bind {
		err = checkBound(ctx, l.JS, cfg, replicasAsked)
	} else {
		err = Provision(ctx, l.JS, cfg)
	}
	if err != nil {
		l.Close(ctx)
		return nil, fmt.Errorf("open event log: %w", err)
	}
	control, err := NewStream(ctx, l.JS, cfg.ControlName, WithMaxEventSize(cfg.MaxEventSize))
	if err != nil {
		l.Close(ctx)
		return nil, fmt.Errorf("open event log: %w", err)
	}
	audit, err := NewStream(ctx, l.JS, cfg.AuditName, WithMaxEventSize(cfg.MaxEventSize))
	if err != nil {
		l.Close(ctx)
		return nil, fmt.Errorf("open event log: %w", err)
	}
	l.Control, l.Audit = control, audit
	return l, nil
}

// Close flushes pending publishes, closes the connection and stops the
// embedded server (if any), waiting until its files are flushed or ctx ends.
func (l *Log) Close(ctx context.Context) error {
	var errs []error
	if l.Conn != nil {
		if !l.Conn.IsClosed() {
			if err := l.Conn.FlushWithContext(ctx); err != nil {
				errs = append(errs, fmt.Errorf("flush: %w", err))
			}
		}
		l.Conn.Close()
	}
	if l.Server != nil {
		if err := l.Server.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close event log: %w", err)
	}
	return nil
}

// connectionLog makes a connection to an external NATS say when it drops
// and when it is back (an agent's strict sessions refuse queries between),
// and ping every ExternalPing, so that a dead link (a cut, not a close) is
// noticed and redialed within two pings, not TCP's retransmission backoff.
func connectionLog(log zerolog.Logger) []nats.Option {
	return []nats.Option{
		nats.PingInterval(ExternalPing), nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if !c.IsClosed() {
				log.Warn().Err(err).Msg("event log connection lost; reconnecting")
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info().Str("server", c.ConnectedUrlRedacted()).Msg("event log connection back")
		}),
	}
}
