package control

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
)

// TestJoinWhenNATSIsInProcess: a control that can serve agents in its own
// process only refuses a network join before the token is looked at (not
// spent, no agent recorded); the in-process join takes the same token.
func TestJoinWhenNATSIsInProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.cfg.NATSURL = NATSInProcess
	ctx := context.Background()
	tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
	require.NoError(t, err)

	_, err = f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicKeyPEM: pubKey(t)}, "192.0.2.7:5000")
	require.Equal(t, CodeUnavailable, apiCode(t, err))
	require.ErrorContains(t, err, "cannot serve an agent on another host")
	require.ErrorContains(t, err, "its join token was not used")
	f.svc.View(func(st *projections.State) {
		require.Empty(t, st.Agents)
		for _, tk := range st.Tokens {
			require.False(t, tk.Consumed)
		}
	})

	joined, err := f.svc.Agents().JoinLocal(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicKeyPEM: pubKey(t)})
	require.NoError(t, err)
	require.Equal(t, NATSInProcess, joined.NATSURL)
}

// TestJoinNATSURLForTheDialedHost: with NATSURLFor, an agent is told the
// NATS listener at the host it dialed control by; without a host (in
// process), the configured URL.
func TestJoinNATSURLForTheDialedHost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.cfg.NATSURL = "tls://127.0.0.1:4443"
	f.svc.cfg.NATSURLFor = func(host string) string { return "tls://" + net.JoinHostPort(host, "4443") }
	ctx := context.Background()
	for host, want := range map[string]string{"ctl.example.com": "tls://ctl.example.com:4443", "::1": "tls://[::1]:4443", "": "tls://127.0.0.1:4443"} {
		tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
		require.NoError(t, err)
		joined, err := f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicKeyPEM: pubKey(t), ControlHost: host}, "test")
		require.NoError(t, err)
		require.Equal(t, want, joined.NATSURL, host)
	}
}
