package node

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/metrics"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/config"
)

// controlMetricsAddr is where control's metrics listener serves the
// process's registry (export lag among it) and control's /healthz:
// control.metrics_addr, or "" for none: when it is "none", control does
// not run here, or the agent in this process serves that very address
// (agentAddr; its listener then serves the same registry).
func controlMetricsAddr(cfg config.Config, controlHere bool, agentAddr string) string {
	addr := cfg.Control.MetricsAddr
	if !controlHere || addr == "" || agentconfig.Off(addr) || agentAddr == addr {
		return ""
	}
	return addr
}

type metricsComponent struct {
	ln  net.Listener
	lg  *jetstream.Log
	reg *prometheus.Registry
	log zerolog.Logger
}

// newMetrics binds control's metrics listener on addr.
func newMetrics(addr string, lg *jetstream.Log, reg *prometheus.Registry, log zerolog.Logger) (*metricsComponent, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control metrics listener on %s (another tollgate on this host? give each process its own "+
			"control.metrics_addr or db_service.metrics_addr, or none): %w", addr, err)
	}
	return &metricsComponent{ln: ln, lg: lg, reg: reg, log: log}, nil
}

func (m *metricsComponent) Name() string { return "metrics" }

// health fails while the event log's connection is down.
func (m *metricsComponent) health() error {
	if c := m.lg.Conn; c != nil && !c.IsConnected() {
		return errors.New("event log disconnected")
	}
	return nil
}

func (m *metricsComponent) Run(ctx context.Context) error {
	m.log.Info().Str("listen", m.ln.Addr().String()).Msg("metrics and health listening")
	return metrics.Serve(ctx, m.ln, metrics.Handler(m.reg, m.health))
}
