package api

import "github.com/tollgate-db/tollgate/control/wire"

// agentRoutes are the calls an agent makes with its host cert besides
// db_client certs and database registration, and the list of agents.
func (s *Server) agentRoutes() {
	agents := s.svc.Agents()
	mount(s, wire.GetAgents, list(agents.List))
	mount(s, wire.PostAgentRenew, cmd(agents.Renew))
}
