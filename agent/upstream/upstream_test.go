package upstream

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDialTLSRefusesBadTargets: a target with no CA, an unknown tls mode,
// an address without a port (for the name to verify) or a negative
// timeout is an error naming what is wrong, before anything is dialed.
func TestDialTLSRefusesBadTargets(t *testing.T) {
	t.Parallel()
	roots := x509.NewCertPool()
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{Addr: "db:5432"}, "no CA"},
		{Target{Addr: "db:5432", Roots: roots, Mode: "verify-none"}, "tls mode"},
		{Target{Addr: "db", Roots: roots}, "database address"},
		{Target{Addr: "db:5432", Roots: roots, DialTimeout: -time.Second}, "DialTimeout"},
	} {
		_, err := DialTLS(context.Background(), tc.t)
		require.ErrorContains(t, err, tc.want)
	}
}
