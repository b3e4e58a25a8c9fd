package api

import (
	"context"
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// ExportStatusFunc reports the export subscribers running in control's
// process.
type ExportStatusFunc func(ctx context.Context) wire.ExportStatus

// SetExportStatus sets where GET /v1/export/status looks; unset, it
// answers that no export is configured.
func (s *Server) SetExportStatus(f ExportStatusFunc) { s.exportStatus.Store(&f) }

// exportRoutes serve the export subscribers' state; reading it needs the
// audit read right, like the audit itself.
func (s *Server) exportRoutes() {
	mount(s, wire.GetExportStatus, func(r *http.Request, c control.Caller, _ wire.None) (wire.ExportStatus, error) {
		if err := s.svc.Authorize(c, schemas.ResourceAudit, schemas.VerbRead); err != nil {
			return wire.ExportStatus{}, err
		}
		f := s.exportStatus.Load()
		if f == nil {
			return wire.ExportStatus{Sinks: []wire.ExportSink{}}, nil
		}
		st := (*f)(r.Context())
		if st.Sinks == nil {
			st.Sinks = []wire.ExportSink{}
		}
		return st, nil
	})
}
