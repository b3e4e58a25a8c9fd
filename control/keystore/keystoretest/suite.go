package keystoretest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/keystore"
)

// Open returns a new, empty store for one subtest.
type Open func(t *testing.T) control.Keys

// Run runs the conformance suite against the stores open makes.
func Run(t *testing.T, open Open) {
	t.Run("keys", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("secrets", func(t *testing.T) { testSecrets(t, open(t)) })
	t.Run("names", func(t *testing.T) { testNames(t, open(t)) })
	t.Run("kinds apart", func(t *testing.T) { testKindsApart(t, open(t)) })
	t.Run("context", func(t *testing.T) { testContext(t, open(t)) })
	t.Run("concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
}

func signers(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return map[string]crypto.Signer{"user-ec": ec, "db-rsa": rk, "host-ed": ed}
}

func samePublic(t *testing.T, want, got crypto.Signer, id string) {
	t.Helper()
	require.True(t, got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(want.Public()), id)
}

func testKeys(t *testing.T, s control.Keys) {
	ctx := context.Background()
	_, err := s.Get(ctx, "user-ec")
	require.ErrorIs(t, err, keystore.ErrNotFound)
	keys := signers(t)
	for id, k := range keys {
		require.NoError(t, s.Put(ctx, id, k))
	}
	for id, k := range keys {
		got, err := s.Get(ctx, id)
		require.NoError(t, err, id)
		samePublic(t, k, got, id)
		// The key signs: a key that only looks right is no key.
		sig, err := got.Sign(rand.Reader, digest(got), hashOf(got))
		require.NoError(t, err, id)
		require.NotEmpty(t, sig)
	}
	// Put replaces.
	repl := keys["db-rsa"]
	require.NoError(t, s.Put(ctx, "user-ec", repl))
	got, err := s.Get(ctx, "user-ec")
	require.NoError(t, err)
	samePublic(t, repl, got, "replaced")

	require.NoError(t, s.Delete(ctx, "user-ec"))
	require.NoError(t, s.Delete(ctx, "user-ec"), "deleting a missing key is no error")
	_, err = s.Get(ctx, "user-ec")
	require.ErrorIs(t, err, keystore.ErrNotFound)
	got, err = s.Get(ctx, "host-ed")
	require.NoError(t, err, "other keys stay")
	samePublic(t, keys["host-ed"], got, "host-ed")
}

func digest(k crypto.Signer) []byte {
	if _, ok := k.(ed25519.PrivateKey); ok {
		return []byte("message")
	}
	return make([]byte, 32)
}

func hashOf(k crypto.Signer) crypto.Hash {
	if _, ok := k.(ed25519.PrivateKey); ok {
		return 0
	}
	return crypto.SHA256
}

func testSecrets(t *testing.T, s control.Keys) {
	ctx := context.Background()
	_, err := s.GetSecret(ctx, "alice")
	require.ErrorIs(t, err, keystore.ErrNotFound)
	require.NoError(t, s.PutSecret(ctx, "alice", []byte("$argon2id$hash")))
	require.NoError(t, s.PutSecret(ctx, "empty", []byte{}))
	v, err := s.GetSecret(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "$argon2id$hash", string(v))
	v, err = s.GetSecret(ctx, "empty")
	require.NoError(t, err)
	require.Empty(t, v)
	require.NoError(t, s.PutSecret(ctx, "alice", []byte("new")))
	v, err = s.GetSecret(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "new", string(v))
	require.NoError(t, s.DeleteSecret(ctx, "alice"))
	require.NoError(t, s.DeleteSecret(ctx, "alice"), "deleting a missing secret is no error")
	_, err = s.GetSecret(ctx, "alice")
	require.ErrorIs(t, err, keystore.ErrNotFound)
	require.NotContains(t, err.Error(), "new")
}

func testNames(t *testing.T, s control.Keys) {
	ctx := context.Background()
	names := []string{"alice", "password/alice", "../../etc/passwd", "a/b", ".hidden", "Ünïcode user", "a%2Fb",
		"a.b", "a b", "*", ">", "control/host.key", strings.Repeat("n", 200)}
	for i, n := range names {
		require.NoError(t, s.PutSecret(ctx, n, []byte{byte(i), 'x'}), n)
	}
	for i, n := range names {
		v, err := s.GetSecret(ctx, n)
		require.NoError(t, err, n)
		require.Equal(t, []byte{byte(i), 'x'}, v, "every name is its own record: %q", n)
	}
	require.Error(t, s.PutSecret(ctx, "", []byte("x")), "empty name")
	require.Error(t, s.PutSecret(ctx, strings.Repeat("n", 201), []byte("x")), "name over 200 bytes")
	_, err := s.GetSecret(ctx, "")
	require.Error(t, err)
}

func testKindsApart(t *testing.T, s control.Keys) {
	ctx := context.Background()
	k := signers(t)["user-ec"]
	require.NoError(t, s.Put(ctx, "same", k))
	_, err := s.GetSecret(ctx, "same")
	require.ErrorIs(t, err, keystore.ErrNotFound, "a key is not a secret")
	require.NoError(t, s.PutSecret(ctx, "same", []byte("v")))
	require.NoError(t, s.DeleteSecret(ctx, "same"))
	got, err := s.Get(ctx, "same")
	require.NoError(t, err, "deleting the secret leaves the key")
	samePublic(t, k, got, "same")
}

func testContext(t *testing.T, s control.Keys) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.PutSecret(ctx, "bob", []byte("x")), context.Canceled)
	require.ErrorIs(t, s.Put(ctx, "bob", signers(t)["user-ec"]), context.Canceled)
	_, err := s.Get(ctx, "bob")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.GetSecret(ctx, "bob")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Delete(ctx, "bob"), context.Canceled)
	require.ErrorIs(t, s.DeleteSecret(ctx, "bob"), context.Canceled)
}

func testConcurrent(t *testing.T, s control.Keys) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("user-%d", i)
			if err := s.PutSecret(ctx, name, []byte(name)); err != nil {
				errs <- err
				return
			}
			v, err := s.GetSecret(ctx, name)
			if err == nil && string(v) != name {
				err = fmt.Errorf("%s: read %q", name, v)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
