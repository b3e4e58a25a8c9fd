package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/lease"
	"github.com/tollgate-db/tollgate/internal/config"
)

// The leases of background work that must run in one process of the
// cluster at a time.
const (
	leaseCheckpoints = "control-checkpoints"
	leaseExport      = "export"
)

// openLeases is the leases background work runs under when several
// controls may share the cluster (control.keystore nats): nil otherwise,
// and the work runs in this process unconditionally, as always.
func openLeases(ctx context.Context, cfg config.Config, js jetstream.JetStream, log zerolog.Logger) (*lease.Leases, error) {
	if !cfg.KeysInNATS() || !cfg.ControlEnabled() {
		return nil, nil
	}
	if js == nil {
		return nil, errors.New("control.keystore nats: the event log has no JetStream connection for leases")
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("lease holder id: %w", err)
	}
	l, err := lease.Open(ctx, js, lease.Config{Replicas: cfg.NATS.Replicas,
		Holder: fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b), Logger: log.With().Str("component", "lease").Logger()})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// underLease runs fn under the lease name when l is set, else at once;
// it returns when ctx ends or fn returns, with fn's error.
func underLease(ctx context.Context, l *lease.Leases, name string, fn func(ctx context.Context) error) error {
	if l == nil {
		return fn(ctx)
	}
	var ferr error
	if err := l.Run(ctx, name, func(ctx context.Context) { ferr = fn(ctx) }); err != nil {
		return err
	}
	return ferr
}
