package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
)

// ExportStatus asks for the state of the export subscribers running in
// control's process (auditor).
func (c *Client) ExportStatus(ctx context.Context) (wire.ExportStatus, error) {
	var out wire.ExportStatus
	return out, c.do(ctx, "GET", "/v1/export/status", nil, &out)
}
