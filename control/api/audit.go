package api

import (
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// auditRoutes serve the auditors' questions (auditquery through control).
func (s *Server) auditRoutes() {
	m, svc := s.mux, s.svc
	m.HandleFunc("POST /v1/audit/search", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var q wire.AuditSearch
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		return svc.Audit().Search(r.Context(), c, q)
	}))
	m.HandleFunc("GET /v1/audit/sessions/{id}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Audit().Session(r.Context(), c, r.PathValue("id"))
	}))
	m.HandleFunc("POST /v1/audit/access", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var q wire.AccessAt
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		return svc.Audit().AccessAt(r.Context(), c, q)
	}))
	m.HandleFunc("POST /v1/audit/verify", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var q wire.AuditVerify
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		return svc.Audit().Verify(r.Context(), c, q)
	}))
	m.HandleFunc("GET /v1/audit/anchors", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Audit().Anchors(r.Context(), c)
	}))
}
