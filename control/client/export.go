package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
)

// ExportStatus asks for the state of the export subscribers running in
// control's process (auditor).
func (c *Client) ExportStatus(ctx context.Context) (wire.ExportStatus, error) {
	return call(ctx, c, wire.GetExportStatus, wire.None{})
}
