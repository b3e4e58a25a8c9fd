package cancel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// DialFunc opens a connection to the session's database (TLS with the
// session's db_client cert) on which the CancelRequest is sent.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Key is the (process id, secret key) pair of a BackendKeyData: 4 bytes of
// secret in protocol 3.0, up to pgwire.MaxCancelKey in 3.2.
type Key struct {
	ProcessID uint32
	Secret    []byte
}

// Upstream is what a session registers: the server's key and how to reach
// the server.
type Upstream struct {
	SessionID string
	Key       Key
	Dial      DialFunc
}

// Options tune a Registry. A zero number takes its default; a negative one
// is refused.
type Options struct {
	// Rate and Burst limit the CancelRequests that match no session, per
	// source (an IPv4 address or an IPv6 /64; default 1/s, burst 5). A
	// source past its budget is refused every cancel, matching or not,
	// until the budget refills.
	Rate  rate.Limit
	Burst int
	// MaxSources bounds the tracked source addresses (default 10000).
	MaxSources int
}

// Registry issues agent keys and forwards matched cancels. An agent key
// keeps the server's process id, so that what a driver reports as its
// backend's PID is the backend's (pg_stat_activity, pg_terminate_backend),
// and replaces only the secret; sessions are told apart by (pid, secret),
// since two databases may each have a backend with the same pid.
type Registry struct {
	opt      Options
	mu       sync.Mutex
	sessions map[uint32][]entry
	limiters map[string]*rate.Limiter
}

type entry struct {
	secret []byte
	up     Upstream
}

// New returns an empty Registry, or an error naming a negative (or NaN)
// option.
func New(opt Options) (*Registry, error) {
	switch {
	case opt.Rate < 0 || math.IsNaN(float64(opt.Rate)):
		return nil, fmt.Errorf("cancel: Rate %v per second is negative or NaN", float64(opt.Rate))
	case opt.Burst < 0:
		return nil, fmt.Errorf("cancel: Burst %d is negative", opt.Burst)
	case opt.MaxSources < 0:
		return nil, fmt.Errorf("cancel: MaxSources %d is negative", opt.MaxSources)
	}
	if opt.Rate == 0 {
		opt.Rate = 1
	}
	if opt.Burst == 0 {
		opt.Burst = 5
	}
	if opt.MaxSources == 0 {
		opt.MaxSources = 10000
	}
	return &Registry{opt: opt, sessions: map[uint32][]entry{}, limiters: map[string]*rate.Limiter{}}, nil
}

// SecretLen is the length of the agent's secret for a server secret of n
// bytes: the same (a 3.2 server's 32 bytes, a 3.0 server's 4), and never
// less than 4.
func SecretLen(n int) int {
	if n < 4 {
		return 4
	}
	return min(n, pgwire.MaxCancelKey)
}

// Register issues the agent's key for up: the server's process id and a
// fresh secret of SecretLen(len(up.Key.Secret)) bytes from crypto/rand,
// unique among the live sessions with that pid. Call Unregister with it
// at session end. up.Key.Secret is copied.
func (r *Registry) Register(up Upstream) (Key, error) {
	up.Key.Secret = append([]byte(nil), up.Key.Secret...)
	k := Key{ProcessID: up.Key.ProcessID, Secret: make([]byte, SecretLen(len(up.Key.Secret)))}
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if _, err := rand.Read(k.Secret); err != nil {
			return Key{}, fmt.Errorf("cancel key: %w", err)
		}
		if r.lookupLocked(k) < 0 {
			break
		}
	}
	r.sessions[k.ProcessID] = append(r.sessions[k.ProcessID], entry{secret: k.Secret, up: up})
	return Key{ProcessID: k.ProcessID, Secret: append([]byte(nil), k.Secret...)}, nil
}

// lookupLocked returns the index of k among the sessions of its pid, or
// -1. Every secret of the pid is compared in constant time (the number of
// sessions sharing a pid is not secret; their secrets are).
func (r *Registry) lookupLocked(k Key) int {
	found := -1
	for i, e := range r.sessions[k.ProcessID] {
		if subtle.ConstantTimeCompare(e.secret, k.Secret) == 1 {
			found = i
		}
	}
	return found
}

// Unregister forgets the agent key k.
func (r *Registry) Unregister(k Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.lookupLocked(k)
	if i < 0 {
		return
	}
	es := r.sessions[k.ProcessID]
	es = append(es[:i], es[i+1:]...)
	if len(es) == 0 {
		delete(r.sessions, k.ProcessID)
	} else {
		r.sessions[k.ProcessID] = es
	}
}

// Errors of Cancel (also in the SessionCancel's Reason).
var (
	ErrRateLimited = errors.New("cancel requests from this address are rate-limited")
	ErrNoMatch     = errors.New("no session matches the cancel key")
)

// Cancel handles one CancelRequest from the address from: it matches the
// key (pid and secret, the secret in constant time), forwards the
// server's key over a new connection from the session's DialFunc, and
// returns the event to record. err is non-nil when nothing was forwarded.
//
// Only a cancel that matches no session spends the source's budget: those
// are what guessing a secret produces. So a pool whose statements all
// reach their deadline at once cancels every one of them, through `toll
// proxy db` too, where every cancel comes from one address; a source that
// guessed Burst times is refused from then on, its matching cancels as
// well (else the refusals would tell it when a guess hit).
func (r *Registry) Cancel(ctx context.Context, k Key, from net.Addr) (schemas.SessionCancel, error) {
	ev := schemas.SessionCancel{ClientAddr: addrString(from)}
	r.mu.Lock()
	l := r.limiterLocked(from)
	if l == nil || l.Tokens() < 1 {
		r.mu.Unlock()
		ev.Reason = ErrRateLimited.Error()
		return ev, ErrRateLimited
	}
	var up Upstream
	i := r.lookupLocked(k)
	if i >= 0 {
		up = r.sessions[k.ProcessID][i].up
	} else {
		l.Allow()
	}
	r.mu.Unlock()
	if i < 0 {
		ev.Reason = ErrNoMatch.Error()
		return ev, ErrNoMatch
	}
	ev.SessionID, ev.Matched = up.SessionID, true
	if err := forward(ctx, up); err != nil {
		ev.Reason = err.Error()
		return ev, err
	}
	ev.Forwarded = true
	return ev, nil
}

func forward(ctx context.Context, up Upstream) error {
	if up.Dial == nil {
		return errors.New("forward cancel: no dial function")
	}
	conn, err := up.Dial(ctx)
	if err != nil {
		return fmt.Errorf("forward cancel: dial database: %w", err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if _, err := conn.Write(pgwire.AppendCancelRequest(nil, up.Key.ProcessID, up.Key.Secret)); err != nil {
		return fmt.Errorf("forward cancel: write: %w", err)
	}
	// The server closes the connection once it has taken the request;
	// closing first could cut it short (libpq and pgx wait too).
	var b [1]byte
	_, _ = conn.Read(b[:])
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// limiterLocked returns the limiter of from's source, or nil when the
// table of sources is full of ones still limited.
func (r *Registry) limiterLocked(from net.Addr) *rate.Limiter {
	// Per IPv4 address or IPv6 /64: one host holds a whole /64, and must
	// not get a fresh budget for guessing secrets from each address.
	host := recordlimit.Source(addrString(from))
	l, ok := r.limiters[host]
	if !ok {
		if len(r.limiters) >= r.opt.MaxSources {
			// Forget the limiters that are full again: they are idle.
			now := time.Now()
			for h, l := range r.limiters {
				if l.TokensAt(now) >= float64(r.opt.Burst) {
					delete(r.limiters, h)
				}
			}
			if len(r.limiters) >= r.opt.MaxSources {
				return nil
			}
		}
		l = rate.NewLimiter(r.opt.Rate, r.opt.Burst)
		r.limiters[host] = l
	}
	return l
}
