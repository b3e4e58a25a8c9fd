package gateway

import (
	"context"
	"crypto/x509"
	"sync"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/follow"
	"github.com/tollgate-db/tollgate/schemas"
)

// stateFollower is the agent's projection of the control stream: a
// projections/follow.Follower that outlasts outages of the log (it retries
// from the last applied sequence, serving the last state meanwhile), the
// sessions poked on the events that change them, and the CA pools cached
// per state.
type stateFollower struct {
	f     *follow.Follower
	ready <-chan struct{} // caught up with the stream as it was at start
	pools caPools
}

func newStateFollower(stream follow.Stream, g *Gateway) *stateFollower {
	f := follow.New(stream, follow.Options{Retry: true, OnApply: g.controlEventApplied, Logger: g.log})
	return &stateFollower{f: f, ready: f.Ready()}
}

// run follows until ctx ends, resuming after errors from the last applied
// sequence.
func (s *stateFollower) run(ctx context.Context) { s.f.Run(ctx) }

// view calls fn with the state under a read lock.
func (s *stateFollower) view(fn func(st *projections.State)) { s.f.View(fn) }

// pool returns the pool of certs the CA of caType trusts now (nil when the
// CA is unknown yet).
func (s *stateFollower) pool(caType string) *x509.CertPool { return s.pools.get(s.f, caType) }

// controlEventApplied pokes what a control event changes: sessions on
// locks and user changes, the db_client certs and the agent's identity on
// CA events.
func (g *Gateway) controlEventApplied(rec eventlog.Record) {
	switch rec.Event.Type {
	case schemas.TypeLockCreated, schemas.TypeUserDeleted, schemas.TypeUserUpdated, schemas.TypeAccessRequestDropped:
		g.poke()
	case schemas.TypeCACreated, schemas.TypeCARotationStarted, schemas.TypeCARotationPhase,
		schemas.TypeCARotationCompleted, schemas.TypeCARotationRolledBack:
		// db_client certs cached from a key that no longer signs are
		// dropped at once (the next session gets one from the new key).
		if g.certs != nil {
			g.certs.rotated()
		}
		g.pokeIdentity()
	}
}

// caPools caches the cert pool of each CA type for one state (its LastSeq):
// parsing the trusted PEMs once per state, not once per handshake.
type caPools struct {
	mu    sync.Mutex
	pools map[string]*x509.CertPool
	seq   uint64 // the state's LastSeq the pools are valid for
}

func (c *caPools) get(f *follow.Follower, caType string) *x509.CertPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var p *x509.CertPool
	f.View(func(st *projections.State) {
		if c.pools == nil || c.seq != st.LastSeq {
			c.pools, c.seq = map[string]*x509.CertPool{}, st.LastSeq
		}
		if cached, ok := c.pools[caType]; ok {
			p = cached
			return
		}
		ca, ok := st.CAs[caType]
		if !ok || len(ca.Trusted) == 0 {
			return
		}
		p = x509.NewCertPool()
		for _, pem := range ca.Trusted {
			p.AppendCertsFromPEM([]byte(pem))
		}
		c.pools[caType] = p
	})
	return p
}
