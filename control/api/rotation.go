package api

import "github.com/tollgate-db/tollgate/control/wire"

// rotationRoutes serve CA rotation (tollctl auth rotate); the service
// checks the cert_authority rotate rule (read, to describe a rotation).
func (s *Server) rotationRoutes() {
	cas := s.svc.CAs()
	mount(s, wire.PostRotate, cmd(cas.Rotate))
	mount(s, wire.GetRotation, read(cas.Rotation))
}
