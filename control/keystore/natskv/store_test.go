package natskv_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/keystore/keystoretest"
	"github.com/tollgate-db/tollgate/control/keystore/natskv"
)

var _ control.Keys = (*natskv.Store)(nil)

func sealer(t *testing.T, path string) *keystore.Sealer {
	t.Helper()
	s, err := keystore.LoadSealKey(path, true)
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	js := natskv.EmbeddedJS(t)
	var n atomic.Int32
	keystoretest.Run(t, func(t *testing.T) control.Keys {
		s, err := natskv.Open(context.Background(), js, natskv.Config{
			Bucket: fmt.Sprintf("KEYS_%d", n.Add(1)), Seal: sealer(t, filepath.Join(t.TempDir(), "seal.key"))})
		require.NoError(t, err)
		return s
	})
}

func TestOpenNeedsASealKey(t *testing.T) {
	t.Parallel()
	_, err := natskv.Open(context.Background(), natskv.EmbeddedJS(t), natskv.Config{})
	require.ErrorIs(t, err, natskv.ErrNoSealKey)
	require.ErrorContains(t, err, "control.seal_key_file")
}

func TestBucketHoldsNoClearValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	js := natskv.EmbeddedJS(t)
	sealPath := filepath.Join(t.TempDir(), "seal.key")
	s, err := natskv.Open(ctx, js, natskv.Config{Seal: sealer(t, sealPath)})
	require.NoError(t, err)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "user-1", k))
	require.NoError(t, s.PutSecret(ctx, "password/alice", []byte("$argon2id$secret-hash")))
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)

	kv, err := js.KeyValue(ctx, natskv.DefaultBucket)
	require.NoError(t, err)
	st, err := kv.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), st.History())
	require.Equal(t, jetstream.FileStorage, st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Storage)
	lister, err := kv.ListKeys(ctx)
	require.NoError(t, err)
	var raw [][]byte
	for key := range lister.Keys() {
		require.NotContains(t, key, "alice", "names are encoded, not in clear either")
		e, err := kv.Get(ctx, key)
		require.NoError(t, err)
		raw = append(raw, e.Value())
	}
	require.Len(t, raw, 2)
	for _, v := range raw {
		require.True(t, keystore.IsSealed(v))
		require.False(t, bytes.Contains(v, k.D.Bytes()), "private scalar in clear")
		require.False(t, bytes.Contains(v, der[len(der)-40:]), "PKCS#8 in clear")
		require.NotContains(t, string(v), "PRIVATE KEY")
		require.NotContains(t, string(v), "argon2id")
	}

	// A second control with the same seal key file reads them; another
	// key opens nothing and says nothing of the value.
	same, err := natskv.Open(ctx, js, natskv.Config{Seal: sealer(t, sealPath)})
	require.NoError(t, err)
	got, err := same.Get(ctx, "user-1")
	require.NoError(t, err)
	require.True(t, k.PublicKey.Equal(got.Public()))
	other, err := natskv.Open(ctx, js, natskv.Config{Seal: sealer(t, filepath.Join(t.TempDir(), "other.key"))})
	require.NoError(t, err)
	_, err = other.GetSecret(ctx, "password/alice")
	require.ErrorIs(t, err, keystore.ErrSealed)
	require.NotContains(t, err.Error(), "argon2id")
}

func TestImportFileOnceIntoAnEmptyBucket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sealPath := filepath.Join(t.TempDir(), "seal.key")
	file, err := keystore.New(t.TempDir(), keystore.WithSealKey(sealPath, true))
	require.NoError(t, err)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	require.NoError(t, file.Put(ctx, "user-1", k))
	require.NoError(t, file.PutSecret(ctx, "password/alice", []byte("hash-a")))
	require.NoError(t, file.PutSecret(ctx, "control/host.key", []byte("pem")))

	s, err := natskv.Open(ctx, natskv.EmbeddedJS(t), natskv.Config{Seal: sealer(t, sealPath)})
	require.NoError(t, err)
	empty, err := s.Empty(ctx)
	require.NoError(t, err)
	require.True(t, empty)
	n, err := s.ImportFile(ctx, file)
	require.NoError(t, err)
	require.Equal(t, natskv.Imported{Keys: 1, Secrets: 2}, n)
	got, err := s.Get(ctx, "user-1")
	require.NoError(t, err)
	require.True(t, k.PublicKey.Equal(got.Public()))
	v, err := s.GetSecret(ctx, "password/alice")
	require.NoError(t, err)
	require.Equal(t, "hash-a", string(v))

	// Once imported, the bucket is the keystore: a deleted key stays
	// deleted, a later file record is not copied.
	require.NoError(t, s.Delete(ctx, "user-1"))
	require.NoError(t, file.PutSecret(ctx, "password/bob", []byte("hash-b")))
	n, err = s.ImportFile(ctx, file)
	require.NoError(t, err)
	require.Equal(t, natskv.Imported{}, n)
	_, err = s.Get(ctx, "user-1")
	require.ErrorIs(t, err, keystore.ErrNotFound)
	_, err = s.GetSecret(ctx, "password/bob")
	require.ErrorIs(t, err, keystore.ErrNotFound)
}

func TestImportIntoAUsedBucketCopiesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sealPath := filepath.Join(t.TempDir(), "seal.key")
	s, err := natskv.Open(ctx, natskv.EmbeddedJS(t), natskv.Config{Seal: sealer(t, sealPath)})
	require.NoError(t, err)
	require.NoError(t, s.PutSecret(ctx, "password/alice", []byte("bucket")))
	file, err := keystore.New(t.TempDir(), keystore.WithSealKey(sealPath, true))
	require.NoError(t, err)
	require.NoError(t, file.PutSecret(ctx, "password/alice", []byte("file")))
	n, err := s.ImportFile(ctx, file)
	require.NoError(t, err)
	require.Equal(t, natskv.Imported{}, n)
	v, err := s.GetSecret(ctx, "password/alice")
	require.NoError(t, err)
	require.Equal(t, "bucket", string(v))
}

func TestOpenRefusesOtherReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	js := natskv.EmbeddedJS(t)
	seal := sealer(t, filepath.Join(t.TempDir(), "seal.key"))
	_, err := natskv.Open(ctx, js, natskv.Config{Seal: seal})
	require.NoError(t, err)
	_, err = natskv.Open(ctx, js, natskv.Config{Seal: seal, Replicas: 1})
	require.NoError(t, err, "the same replicas bind")
	_, err = natskv.Open(ctx, js, natskv.Config{Seal: seal, Replicas: 3})
	require.ErrorContains(t, err, "keystore bucket TOLLGATE_KEYS exists with replicas 1, this config asks 3: set nats.replicas to 1")
}
