package api

import (
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// agentRoutes are the calls an agent makes with its host cert besides
// db_client certs and database registration.
func (s *Server) agentRoutes() {
	s.mux.HandleFunc("POST /v1/agents/renew", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.AgentRenew
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return s.svc.RenewAgentCert(r.Context(), c, req)
	}))
}
