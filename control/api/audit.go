package api

import (
	"net/http"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// auditRoutes serve the auditors' questions (auditquery through control)
// and pages of either stream.
func (s *Server) auditRoutes() {
	audit := s.svc.Audit()
	mount(s, wire.PostAuditSearch, cmd(audit.Search))
	mount(s, wire.GetAuditSession, cmd(audit.Session))
	mount(s, wire.PostAuditAccess, cmd(audit.AccessAt))
	mount(s, wire.PostAccessDiff, cmd(audit.AccessDiff))
	mount(s, wire.PostAuditVerify, cmd(audit.Verify))
	mount(s, wire.GetAuditAnchors, func(r *http.Request, c control.Caller, _ wire.None) (auditquery.Anchors, error) {
		return audit.Anchors(r.Context(), c)
	})
	mount(s, wire.GetEvents, cmd(audit.Events))
	mount(s, wire.PostPolicySimulate, cmd(s.svc.Policies().Simulate))
}
