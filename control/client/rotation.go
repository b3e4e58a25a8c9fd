package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
)

// RotateCA performs one step of a CA rotation (or all of them, action
// auto) and describes the CA's phase afterwards.
func (c *Client) RotateCA(ctx context.Context, req wire.RotateRequest) (wire.Rotation, error) {
	return call(ctx, c, wire.PostRotate, req)
}

// Rotation describes a CA's rotation now without changing it (phase,
// keys, and the agents completing a host CA rotation waits for).
func (c *Client) Rotation(ctx context.Context, caType string) (wire.Rotation, error) {
	return call(ctx, c, wire.GetRotation, caType)
}
