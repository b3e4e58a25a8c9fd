package control

import (
	"context"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

// TestServerCertKeptAndRenewed: control's host cert is reused across
// starts while more than a third of its lifetime is left, and renewed
// (at start and through CertificateSource) once less is left.
func TestServerCertKeptAndRenewed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := testclock.New(time.Now().UTC())
	ctl, aud, dir := memlog.New(eventlog.ControlStream), memlog.New(eventlog.AuditStream), t.TempDir()
	start := func() *Service {
		svc, err := New(Config{Control: ctl, Audit: aud, DataDir: dir, ClusterName: "c", Clock: clock, Logger: zerolog.Nop(),
			Hosts: []string{"control.example"}})
		require.NoError(t, err)
		require.NoError(t, svc.Start(ctx))
		return svc
	}
	svc := start()
	first, err := svc.ServerCertificate(ctx)
	require.NoError(t, err)
	require.Contains(t, first.Leaf.DNSNames, "control.example")

	clock.Add(ServerCertTTL / 2)
	again, err := start().ServerCertificate(ctx)
	require.NoError(t, err)
	require.Equal(t, first.Leaf.SerialNumber, again.Leaf.SerialNumber, "kept while more than a third is left")

	clock.Add(ServerCertTTL / 4) // 3/4 of the lifetime used
	svc = start()
	renewed, err := svc.ServerCertificate(ctx)
	require.NoError(t, err)
	require.NotEqual(t, first.Leaf.SerialNumber, renewed.Leaf.SerialNumber, "renewed at start")

	get := svc.CertificateSource(ctx, renewed)
	c, err := get(nil)
	require.NoError(t, err)
	require.Equal(t, renewed.Leaf.SerialNumber, c.Leaf.SerialNumber)
	clock.Add(ServerCertTTL * 3 / 4)
	c, err = get(nil)
	require.NoError(t, err)
	require.NotEqual(t, renewed.Leaf.SerialNumber, c.Leaf.SerialNumber, "renewed while running")
	require.True(t, c.Leaf.NotAfter.After(clock.Now().Add(ServerCertTTL/2)))
}
