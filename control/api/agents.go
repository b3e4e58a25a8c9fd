package api

import (
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// agentRoutes are the calls an agent makes with its host cert besides
// db_client certs and database registration, and the list of agents.
func (s *Server) agentRoutes() {
	agents := s.svc.Agents()
	mount(s, wire.GetAgents, list(func(c control.Caller) ([]wire.Agent, error) {
		ags, err := agents.List(c)
		if err != nil || s.tunnels == nil {
			return ags, err
		}
		up := s.tunnels.Connected()
		for i := range ags {
			_, ags[i].Tunnel = up[ags[i].ID]
		}
		return ags, nil
	}))
	mount(s, wire.PostAgentRenew, cmd(agents.Renew))
}
