package control

import (
	"context"
	"crypto"

	"github.com/tollgate-db/tollgate/control/keystore"
)

// Keys is what control keeps outside the event log: CA private keys by key
// id and secret records (password hashes, control's host cert and key) by
// name. A missing key or secret is an error wrapping keystore.ErrNotFound;
// deleting a missing one is no error. The file store (control/keystore)
// and the NATS KV store (control/keystore/natskv) implement it; the
// conformance suite is control/keystore/keystoretest.
type Keys interface {
	Put(ctx context.Context, keyID string, key crypto.Signer) error
	Get(ctx context.Context, keyID string) (crypto.Signer, error)
	Delete(ctx context.Context, keyID string) error
	PutSecret(ctx context.Context, name string, value []byte) error
	GetSecret(ctx context.Context, name string) ([]byte, error)
	DeleteSecret(ctx context.Context, name string) error
}

var _ Keys = (*keystore.Store)(nil)
