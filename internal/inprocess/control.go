// Package inprocess adapts the control service to what an agent in the
// same process needs (join.ControlPlane), so that agent/ never imports
// control: the adapter lives with the composition root.
package inprocess

import (
	"context"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// Control is join.ControlPlane over a control.Service in this process: a
// single node's agent, and tests.
type Control struct {
	Service *control.Service
}

var (
	_ join.ControlPlane = (*Control)(nil)
	_ join.Renewer      = (*Control)(nil)
)

func (l *Control) caller(agentID string) control.Caller {
	return control.Caller{Kind: control.CallerHost, Name: agentID}
}

// Join calls Agents().JoinLocal: the agent reaches the event log in
// process.
func (l *Control) Join(ctx context.Context, req wire.Join) (wire.Joined, error) {
	return l.Service.Agents().JoinLocal(ctx, req)
}

// DBClientCert calls Certs().DBClient as the agent.
func (l *Control) DBClientCert(ctx context.Context, agentID string, req wire.DBClientCertRequest) (wire.Cert, error) {
	return l.Service.Certs().DBClient(ctx, l.caller(agentID), req)
}

// RegisterDatabase calls Databases().Register as the agent.
func (l *Control) RegisterDatabase(ctx context.Context, agentID string, d schemas.Database) error {
	_, err := l.Service.Databases().Register(ctx, l.caller(agentID), d)
	return err
}

// RenewHostCert calls Agents().Renew as the agent.
func (l *Control) RenewHostCert(ctx context.Context, agentID string, req wire.AgentRenew) (wire.Cert, error) {
	return l.Service.Agents().Renew(ctx, l.caller(agentID), req)
}
