package node

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/agent/tunnel"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/internal/config"
)

// openTunnel is an agent's reverse tunnel to control
// (db_service.tunnel): to each address of tollgate.proxy_server in turn,
// with the agent's host cert.
func openTunnel(cfg config.Config, log zerolog.Logger) (*tunnel.Listener, error) {
	l, err := tunnel.Listen(tunnel.Options{Addrs: client.SplitProxies(cfg.Agent.Tollgate.ProxyServer),
		TLS: reloadingTLS(join.Dir(cfg.DataDir), ""), Logger: log.With().Str("component", "tunnel").Logger()})
	if err != nil {
		return nil, fmt.Errorf("agent tunnel: %w", err)
	}
	return l, nil
}
