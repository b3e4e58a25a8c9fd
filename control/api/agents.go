package api

import (
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// agentRoutes are the calls an agent makes with its host cert besides
// db_client certs and database registration, and the list of agents.
func (s *Server) agentRoutes() {
	s.mux.HandleFunc("GET /v1/agents", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nonNil(s.svc.Agents().List(c))
	}))
	s.mux.HandleFunc("POST /v1/agents/renew", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.AgentRenew
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return s.svc.Agents().Renew(r.Context(), c, req)
	}))
}
