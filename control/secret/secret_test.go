package secret_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/secret"
)

func TestCheckPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pw, errPart string
	}{
		{"correct horse battery", ""},
		{"ünïcödé-pässwörd", ""},
		{"pw9Q", "at least 12 characters"},
		{"elevenchars", "at least 12 characters"},
		{strings.Repeat(" ", 20), "whitespace"},
		{strings.Repeat("x", 1025), "at most 1024 bytes"},
		{"\xff\xfe" + strings.Repeat("x", 12), "UTF-8"},
	}
	for _, tc := range tests {
		err := secret.CheckPolicy(tc.pw)
		if tc.errPart == "" {
			require.NoError(t, err, tc.pw)
			continue
		}
		require.ErrorIs(t, err, secret.ErrWeakPassword)
		require.ErrorContains(t, err, tc.errPart)
		if strings.TrimSpace(tc.pw) != "" {
			require.NotContains(t, err.Error(), tc.pw, "no password in the error")
		}
	}
}

func TestHashAndVerifyPassword(t *testing.T) {
	t.Parallel()
	h, err := secret.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=4$"), h)
	require.NotContains(t, h, "horse")

	h2, err := secret.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "salts differ")

	ok, err := secret.VerifyPassword(h, "correct horse battery")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = secret.VerifyPassword(h, "correct horse batterY")
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = secret.VerifyPassword(h, "")
	require.NoError(t, err)
	require.False(t, ok)
}

func TestVerifyMalformedHash(t *testing.T) {
	t.Parallel()
	good, err := secret.HashPassword("correct horse battery")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	bad := []string{
		"",
		"plain",
		"$argon2i$v=19$m=65536,t=3,p=4$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=65536,t=3,p=4$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4294967295,t=3,p=4$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=65536,t=999,p=4$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=65536,t=3,p=4,x=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=65536,t=3,p=4$!!$" + parts[5],
		"$argon2id$v=19$m=65536,t=3,p=4$" + parts[4] + "$",
	}
	for _, h := range bad {
		ok, err := secret.VerifyPassword(h, "correct horse battery")
		require.ErrorIs(t, err, secret.ErrMalformedHash, h)
		require.False(t, ok)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, gen := range []func() (string, string){secret.NewToken, secret.NewInvite} {
		for range 50 {
			v, h := gen()
			require.Len(t, v, 32)
			_, err := hex.DecodeString(v)
			require.NoError(t, err)
			sum := sha256.Sum256([]byte(v))
			require.Equal(t, hex.EncodeToString(sum[:]), h)
			require.Equal(t, h, secret.HashToken(v))
			require.Equal(t, h, secret.HashInvite(v))
			require.True(t, secret.MatchToken(v, h))
			require.False(t, secret.MatchToken(v+"0", h))
			require.False(t, seen[v], "tokens repeat")
			seen[v] = true
		}
	}
}
