package api

import (
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// rotationRoutes serve CA rotation (tollctl auth rotate); the service
// checks the cert_authority rotate rule (read, to describe a rotation).
func (s *Server) rotationRoutes() {
	s.mux.HandleFunc("POST /v1/auth/rotate", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.RotateRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return s.svc.CAs().Rotate(r.Context(), c, req)
	}))
	s.mux.HandleFunc("GET /v1/auth/rotation/{type}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return s.svc.CAs().Rotation(c, r.PathValue("type"))
	}))
}
