package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
)

// RotateCA performs one step of a CA rotation (or all of them, action
// auto) and describes the CA's phase afterwards.
func (c *Client) RotateCA(ctx context.Context, req wire.RotateRequest) (wire.Rotation, error) {
	var out wire.Rotation
	return out, c.do(ctx, "POST", "/v1/auth/rotate", req, &out)
}

// Rotation describes a CA's rotation now without changing it (phase,
// keys, and the agents completing a host CA rotation waits for).
func (c *Client) Rotation(ctx context.Context, caType string) (wire.Rotation, error) {
	var out wire.Rotation
	return out, c.do(ctx, "GET", "/v1/auth/rotation/"+esc(caType), nil, &out)
}
