package node

import (
	"context"
	"errors"
	"fmt"
	"net"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/metrics"
)

// agentMetricsAddr is where the agent of this process serves metrics: the
// override (the --metrics-addr flag, tests), else db_service.metrics_addr.
func agentMetricsAddr(env *Env, opts AgentOptions) string {
	if opts.MetricsAddr != "" {
		return opts.MetricsAddr
	}
	return env.Config.Agent.DBService.MetricsAddr
}

// metricsFactory serves the process's registry (export lag among it) and
// control's /healthz on control.metrics_addr: unless it is "none", control
// does not run here, or the agent in this process serves that very address
// (its listener then serves the same registry).
func metricsFactory(opts AgentOptions) Factory {
	return func(env *Env) (Component, error) {
		addr := env.Config.Control.MetricsAddr
		if env.Control == nil || addr == "" || agentconfig.Off(addr) {
			return nil, nil
		}
		if env.Agent != nil && agentMetricsAddr(env, opts) == addr {
			return nil, nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("control metrics listener on %s (another tollgate on this host? give each process its own "+
				"control.metrics_addr or db_service.metrics_addr, or none): %w", addr, err)
		}
		env.MetricsAddr = ln.Addr()
		return &metricsComponent{env: env, ln: ln}, nil
	}
}

type metricsComponent struct {
	env *Env
	ln  net.Listener
}

func (m *metricsComponent) Name() string { return "metrics" }

// health fails while the event log's connection is down.
func (m *metricsComponent) health() error {
	if c := m.env.Log.Conn; c != nil && !c.IsConnected() {
		return errors.New("event log disconnected")
	}
	return nil
}

func (m *metricsComponent) Run(ctx context.Context) error {
	m.env.Logger.Info().Str("listen", m.ln.Addr().String()).Msg("metrics and health listening")
	return metrics.Serve(ctx, m.ln, metrics.Handler(m.env.Registry, m.health))
}
