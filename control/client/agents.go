package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
)

// RenewAgentCert asks control for a new host cert for the calling agent
// (authenticated by its current host cert).
func (c *Client) RenewAgentCert(ctx context.Context, req wire.AgentRenew) (wire.Cert, error) {
	return call(ctx, c, wire.PostAgentRenew, req)
}

// AgentsList lists the joined agents.
func (c *Client) AgentsList(ctx context.Context) ([]wire.Agent, error) {
	return call(ctx, c, wire.GetAgents, wire.None{})
}
