package gateway

import (
	"context"
	"crypto/x509"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// stateFollower folds the control stream into a projection and keeps
// following it across outages of the log.
type stateFollower struct {
	stream eventlog.Stream
	g      *Gateway

	mu    sync.RWMutex
	state *projections.State
	// pools cached per CA type, valid for poolSeq.
	pools   map[string]*x509.CertPool
	poolSeq uint64
	ready   chan struct{}
	once    sync.Once
}

func newStateFollower(stream eventlog.Stream, g *Gateway) *stateFollower {
	return &stateFollower{stream: stream, g: g, state: projections.New(), ready: make(chan struct{})}
}

// run follows until ctx ends, resuming after errors from the last applied
// sequence.
func (f *stateFollower) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		last, err := f.stream.LastSeq(ctx)
		if err == nil && last == 0 {
			f.markReady()
		}
		f.mu.RLock()
		from := f.state.LastSeq + 1
		f.mu.RUnlock()
		err = f.stream.Follow(ctx, eventlog.Query{FromSeq: from}, func(rec eventlog.Record) error {
			f.apply(rec)
			if rec.StreamSeq >= last {
				f.markReady()
			}
			backoff = 100 * time.Millisecond
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		f.g.log.Warn().Err(err).Msg("following the control stream stopped; serving from the last state and retrying")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (f *stateFollower) markReady() { f.once.Do(func() { close(f.ready) }) }

func (f *stateFollower) apply(rec eventlog.Record) {
	f.mu.Lock()
	if rec.StreamSeq <= f.state.LastSeq {
		f.mu.Unlock()
		return
	}
	if err := f.state.Apply(rec); err != nil {
		f.g.log.Error().Err(err).Uint64("seq", rec.StreamSeq).Str("type", rec.Event.Type).Msg("apply control event")
		f.state.LastSeq = rec.StreamSeq
	}
	f.mu.Unlock()
	switch rec.Event.Type {
	case schemas.TypeLockCreated, schemas.TypeUserDeleted, schemas.TypeUserUpdated:
		f.g.poke()
	case schemas.TypeCACreated, schemas.TypeCARotationStarted, schemas.TypeCARotationPhase,
		schemas.TypeCARotationCompleted, schemas.TypeCARotationRolledBack:
		// db_client certs cached from a key that no longer signs are
		// dropped at once (the next session gets one from the new key).
		if f.g.certs != nil {
			f.g.certs.rotated()
		}
		f.g.pokeIdentity()
	}
}

// view calls fn with the state under a read lock.
func (f *stateFollower) view(fn func(st *projections.State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.state)
}

// pool returns the pool of certs the CA of caType trusts now (nil when the
// CA is unknown yet).
func (f *stateFollower) pool(caType string) *x509.CertPool {
	f.mu.RLock()
	if f.pools != nil && f.poolSeq == f.state.LastSeq {
		p := f.pools[caType]
		f.mu.RUnlock()
		if p != nil {
			return p
		}
	} else {
		f.mu.RUnlock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pools == nil || f.poolSeq != f.state.LastSeq {
		f.pools, f.poolSeq = map[string]*x509.CertPool{}, f.state.LastSeq
	}
	if p, ok := f.pools[caType]; ok {
		return p
	}
	ca, ok := f.state.CAs[caType]
	if !ok || len(ca.Trusted) == 0 {
		return nil
	}
	p := x509.NewCertPool()
	for _, pem := range ca.Trusted {
		p.AppendCertsFromPEM([]byte(pem))
	}
	f.pools[caType] = p
	return p
}
