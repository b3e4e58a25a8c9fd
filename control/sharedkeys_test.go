package control

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/projections"
)

// twoControls starts two controls (ctl-a.example, ctl-b.example) on one
// log, sharing their keys (Config.Keys); it returns them, the shared keys
// and the audit stream. They stop with the test.
func twoControls(t *testing.T) (a, b *Service, shared *keystore.Store, aud *memlog.Stream) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ctl := memlog.New(eventlog.ControlStream)
	aud = memlog.New(eventlog.AuditStream)
	shared, err := keystore.New(filepath.Join(t.TempDir(), "shared"))
	require.NoError(t, err)
	start := func(host string) *Service {
		svc, err := New(Config{Control: ctl, Audit: aud, DataDir: t.TempDir(), ClusterName: "test", Hosts: []string{host},
			Keys: shared, Logger: zerolog.Nop(), FailureDelay: time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, svc.Start(ctx))
		return svc
	}
	return start("ctl-a.example"), start("ctl-b.example"), shared, aud
}

// Two controls sharing their keys (Config.Keys) on one log: the CA keys
// the first made sign on the second, and each keeps its own host cert for
// its own names in its own data dir, so neither reissues the other's.
func TestSharedKeysKeepEachControlsHostCert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, shared, _ := twoControls(t)
	admin := Caller{Kind: CallerUser, Name: AdminUser}
	for _, s := range []*Service{a, b} {
		out, err := s.Certs().Sign(ctx, admin, wire.SignRequest{Format: "tls", Hosts: []string{"db.example"}, TTL: time.Hour})
		require.NoError(t, err)
		require.NotEmpty(t, out.CertPEM)
	}
	ca, err := a.ServerCertificate(ctx)
	require.NoError(t, err)
	cb, err := b.ServerCertificate(ctx)
	require.NoError(t, err)
	require.Contains(t, ca.Leaf.DNSNames, "ctl-a.example")
	require.Contains(t, cb.Leaf.DNSNames, "ctl-b.example")
	again, err := a.ServerCertificate(ctx)
	require.NoError(t, err)
	require.Equal(t, ca.Leaf.SerialNumber, again.Leaf.SerialNumber, "b's cert did not replace a's")
	_, err = shared.GetSecret(ctx, serverCertSecret)
	require.ErrorIs(t, err, keystore.ErrNotFound, "host certs are not in the shared keys")
	var keyIDs []string
	a.View(func(st *projections.State) {
		for _, c := range st.CAs {
			keyIDs = append(keyIDs, c.Active.KeyID)
		}
	})
	require.Len(t, keyIDs, len(CATypes))
	for _, id := range keyIDs {
		_, err := shared.Get(ctx, id)
		require.NoError(t, err, "CA key %s is in the shared keys", id)
	}
}
