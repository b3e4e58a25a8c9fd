package keystore_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/keystore"
)

func newKeys(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return map[string]crypto.Signer{"user-ec": ec, "db-rsa": rk}
}

func TestKeyRoundTripAndPermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, sealed := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "ks")
		var opts []keystore.Option
		if sealed {
			opts = append(opts, keystore.WithSealKey(filepath.Join(t.TempDir(), "seal.key"), true))
		}
		s, err := keystore.New(dir, opts...)
		require.NoError(t, err)
		require.Equal(t, sealed, s.Sealed())
		for id, k := range newKeys(t) {
			require.NoError(t, s.Put(ctx, id, k))
			got, err := s.Get(ctx, id)
			require.NoError(t, err)
			require.True(t, got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()), id)
		}
		for _, d := range []string{dir, filepath.Join(dir, "keys"), filepath.Join(dir, "secrets")} {
			fi, err := os.Stat(d)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), d)
		}
		entries, err := os.ReadDir(filepath.Join(dir, "keys"))
		require.NoError(t, err)
		require.Len(t, entries, 2, "no temp files are left")
		for _, e := range entries {
			fi, err := e.Info()
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), e.Name())
		}
		require.NoError(t, s.Delete(ctx, "user-ec"))
		require.NoError(t, s.Delete(ctx, "user-ec"))
		_, err = s.Get(ctx, "user-ec")
		require.ErrorIs(t, err, keystore.ErrNotFound)
	}
}

func TestSealedFileHoldsNoClearKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, sealPath := t.TempDir(), filepath.Join(t.TempDir(), "seal.key")
	s, err := keystore.New(dir, keystore.WithSealKey(sealPath, true))
	require.NoError(t, err)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "ca-1", k))
	require.NoError(t, s.PutSecret(ctx, "alice", []byte("$argon2id$secret-hash")))

	fi, err := os.Stat(sealPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Equal(t, int64(keystore.SealKeySize), fi.Size())

	raw, err := os.ReadFile(filepath.Join(dir, "keys", "ca-1.pem"))
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	require.False(t, bytes.Contains(raw, k.D.Bytes()), "private scalar in clear")
	require.False(t, bytes.Contains(raw, der[len(der)-40:]), "PKCS#8 in clear")
	require.NotContains(t, string(raw), "PRIVATE KEY")
	sec, err := os.ReadFile(filepath.Join(dir, "secrets", "alice"))
	require.NoError(t, err)
	require.NotContains(t, string(sec), "argon2id")

	// Reopening with the same key file works; create=true must not replace it.
	s2, err := keystore.New(dir, keystore.WithSealKey(sealPath, true))
	require.NoError(t, err)
	got, err := s2.Get(ctx, "ca-1")
	require.NoError(t, err)
	require.True(t, k.PublicKey.Equal(got.Public()))

	// Without the seal key, or with another one, nothing opens.
	plain, err := keystore.New(dir)
	require.NoError(t, err)
	_, err = plain.Get(ctx, "ca-1")
	require.ErrorIs(t, err, keystore.ErrSealed)
	other, err := keystore.New(dir, keystore.WithSealKey(filepath.Join(t.TempDir(), "other.key"), true))
	require.NoError(t, err)
	_, err = other.GetSecret(ctx, "alice")
	require.ErrorIs(t, err, keystore.ErrSealed)
	require.NotContains(t, err.Error(), "argon2id")

	// A sealed file moved to another name does not open (name is bound).
	require.NoError(t, os.Rename(filepath.Join(dir, "secrets", "alice"), filepath.Join(dir, "secrets", "bob")))
	_, err = s2.GetSecret(ctx, "bob")
	require.ErrorIs(t, err, keystore.ErrSealed)
}

func TestSealKeyFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.key")
	_, err := keystore.New(t.TempDir(), keystore.WithSealKey(missing, false))
	require.Error(t, err)
	_, statErr := os.Stat(missing)
	require.True(t, os.IsNotExist(statErr))

	short := filepath.Join(dir, "short.key")
	require.NoError(t, os.WriteFile(short, []byte("too short"), 0o600))
	_, err = keystore.New(t.TempDir(), keystore.WithSealKey(short, false))
	require.ErrorContains(t, err, "32 bytes")

	for _, tc := range []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"owner only", 0o600, true},
		{"owner read only", 0o400, true},
		{"world readable", 0o644, false},
		{"group writable", 0o660, false},
		{"group readable, own group (a Kubernetes Secret with fsGroup)", 0o440, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "seal.key")
			require.NoError(t, os.WriteFile(p, make([]byte, 32), 0o600))
			require.NoError(t, os.Chmod(p, tc.mode))
			_, err := keystore.New(t.TempDir(), keystore.WithSealKey(p, false))
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "chmod 600")
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := keystore.New(dir)
	require.NoError(t, err)
	names := []string{"alice", "../../etc/passwd", "a/b", ".hidden", "Ünïcode user", "a%2Fb"}
	for i, n := range names {
		require.NoError(t, s.PutSecret(ctx, n, []byte{byte(i), 'x'}))
	}
	for i, n := range names {
		v, err := s.GetSecret(ctx, n)
		require.NoError(t, err, n)
		require.Equal(t, []byte{byte(i), 'x'}, v, n)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "secrets"))
	require.NoError(t, err)
	require.Len(t, entries, len(names), "every name is one file inside secrets/")
	for _, e := range entries {
		require.NotEqual(t, '.', rune(e.Name()[0]), e.Name())
		fi, err := e.Info()
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	require.NoError(t, s.PutSecret(ctx, "alice", []byte("new")))
	v, err := s.GetSecret(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "new", string(v))
	require.NoError(t, s.DeleteSecret(ctx, "alice"))
	_, err = s.GetSecret(ctx, "alice")
	require.ErrorIs(t, err, keystore.ErrNotFound)

	require.Error(t, s.PutSecret(ctx, "", []byte("x")))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.PutSecret(cctx, "bob", []byte("x")), context.Canceled)
}

func TestEncodeName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"user-ab12_C", "user-ab12_C"},
		{"a/b", "a%2Fb"},
		{"..", "%2E%2E"},
		{"a%2Fb", "a%252Fb"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, keystore.EncodeName(tc.in))
		back, err := keystore.DecodeName(tc.want)
		require.NoError(t, err)
		require.Equal(t, tc.in, back)
	}
}

func TestNamesListsWhatWasPut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := keystore.New(t.TempDir())
	require.NoError(t, err)
	secrets := []string{"a%2Fb", "a/b", "password/alice", "Ünïcode user"}
	for _, n := range secrets {
		require.NoError(t, s.PutSecret(ctx, n, []byte("x")))
	}
	for id, k := range newKeys(t) {
		require.NoError(t, s.Put(ctx, id, k))
	}
	got, err := s.Names(ctx, keystore.KindSecret)
	require.NoError(t, err)
	require.ElementsMatch(t, secrets, got)
	got, err = s.Names(ctx, keystore.KindKey)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"user-ec", "db-rsa"}, got)
	_, err = s.Names(ctx, "other")
	require.Error(t, err)
	for _, bad := range []string{"a%2", "a%ZZ"} {
		_, err := keystore.DecodeName(bad)
		require.Error(t, err, bad)
	}
}

func TestReadClearOpensFilesFromBeforeTheSealKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, sealPath := t.TempDir(), filepath.Join(t.TempDir(), "seal.key")
	plain, err := keystore.New(dir)
	require.NoError(t, err)
	require.NoError(t, plain.PutSecret(ctx, "old", []byte("clear")))

	sealed, err := keystore.New(dir, keystore.WithSealKey(sealPath, true))
	require.NoError(t, err)
	_, err = sealed.GetSecret(ctx, "old")
	require.ErrorIs(t, err, keystore.ErrSealed, "without ReadClear a clear file is refused")

	rc, err := keystore.New(dir, keystore.WithSealKey(sealPath, false), keystore.ReadClear())
	require.NoError(t, err)
	v, err := rc.GetSecret(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, "clear", string(v))
	require.NoError(t, rc.PutSecret(ctx, "new", []byte("sealed now")))
	raw, err := os.ReadFile(filepath.Join(dir, "secrets", "new"))
	require.NoError(t, err)
	require.True(t, keystore.IsSealed(raw), "ReadClear still writes sealed")
}
