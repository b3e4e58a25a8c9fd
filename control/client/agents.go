package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
)

// RenewAgentCert asks control for a new host cert for the calling agent
// (authenticated by its current host cert).
func (c *Client) RenewAgentCert(ctx context.Context, req wire.AgentRenew) (wire.Cert, error) {
	var out wire.Cert
	return out, c.do(ctx, "POST", "/v1/agents/renew", req, &out)
}

// AgentsList lists the joined agents.
func (c *Client) AgentsList(ctx context.Context) ([]wire.Agent, error) {
	var out []wire.Agent
	return out, c.do(ctx, "GET", "/v1/agents", nil, &out)
}
