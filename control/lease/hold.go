package lease

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// acquire waits until this process takes the lease, polling every TTL/3,
// and returns its revision and when the create that took it was sent;
// false when ctx ended first.
func (l *Leases) acquire(ctx context.Context, name string) (uint64, time.Time, bool) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		sent := time.Now()
		rev, err := l.kv.Create(ctx, name, []byte(l.holder))
		if err == nil {
			l.log.Info().Str("lease", name).Str("holder", l.holder).Msg("lease taken")
			return rev, sent, true
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			l.log.Warn().Err(err).Str("lease", name).Msg("take lease")
		}
		select {
		case <-ctx.Done():
			return 0, time.Time{}, false
		case <-t.C:
		}
	}
}

// hold runs fn while renewing the lease at revision rev, last written by
// a request sent at lastOK. It returns true when Run is done (ctx ended or
// fn returned: the lease is released), false when the lease was lost (fn
// has returned).
func (l *Leases) hold(ctx context.Context, name string, rev uint64, lastOK time.Time, fn func(context.Context)) bool {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fnDone := make(chan struct{})
	go func() {
		defer close(fnDone)
		fn(fctx)
	}()
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			cancel()
			<-fnDone
			l.release(name, rev)
			return true
		case <-fnDone:
			l.release(name, rev)
			return true
		case <-t.C:
		}
		sent := time.Now()
		next, err := l.renew(ctx, name, rev)
		switch {
		case err == nil:
			rev, lastOK = next, sent
			continue
		case ctx.Err() != nil:
			continue // the select above releases
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound):
			l.log.Warn().Str("lease", name).Msg("lease lost: another process holds it")
		case time.Since(lastOK) >= 2*l.ttl/3:
			l.log.Warn().Err(err).Str("lease", name).Msg("lease lost: no renewal in 2/3 of its TTL")
		default:
			l.log.Warn().Err(err).Str("lease", name).Msg("renew lease; trying again")
			continue
		}
		cancel()
		<-fnDone
		return false
	}
}

// renew rewrites the lease if this process's revision is still the last,
// within a third of the TTL.
func (l *Leases) renew(ctx context.Context, name string, rev uint64) (uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, l.ttl/3)
	defer cancel()
	return l.kv.Update(rctx, name, []byte(l.holder), rev)
}

// release deletes the lease if this process still holds it at rev, so
// that another takes it at once; failing that, it expires after the TTL.
func (l *Leases) release(name string, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
	defer cancel()
	if err := l.kv.Delete(ctx, name, jetstream.LastRevision(rev)); err != nil {
		l.log.Warn().Err(err).Str("lease", name).Msg("release lease (it expires after its TTL)")
		return
	}
	l.log.Info().Str("lease", name).Str("holder", l.holder).Msg("lease released")
}
