package cancel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/schemas"
)

// DialFunc opens a connection to the session's database (TLS with the
// session's db_client cert) on which the CancelRequest is sent.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Key is a (process id, secret key) pair of BackendKeyData.
type Key struct{ ProcessID, SecretKey uint32 }

// Upstream is what a session registers: the server's key and how to reach
// the server.
type Upstream struct {
	SessionID string
	Key       Key
	Dial      DialFunc
}

// Options tune a Registry.
type Options struct {
	// Rate and Burst limit CancelRequests per source (an IPv4 address or
	// an IPv6 /64; default 1/s, burst 5).
	Rate  rate.Limit
	Burst int
	// MaxSources bounds the tracked source addresses (default 10000).
	MaxSources int
}

// Registry issues agent keys and forwards matched cancels.
type Registry struct {
	opt      Options
	mu       sync.Mutex
	sessions map[uint32]entry
	limiters map[string]*rate.Limiter
}

type entry struct {
	secret uint32
	up     Upstream
}

// New returns an empty Registry.
func New(opt Options) *Registry {
	if opt.Rate == 0 {
		opt.Rate = 1
	}
	if opt.Burst <= 0 {
		opt.Burst = 5
	}
	if opt.MaxSources <= 0 {
		opt.MaxSources = 10000
	}
	return &Registry{opt: opt, sessions: map[uint32]entry{}, limiters: map[string]*rate.Limiter{}}
}

// Register issues a fresh agent key for up, from crypto/rand, unique among
// live sessions. Call Unregister with it at session end.
func (r *Registry) Register(up Upstream) (Key, error) {
	var b [8]byte
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return Key{}, fmt.Errorf("cancel key: %w", err)
		}
		k := Key{ProcessID: binary.BigEndian.Uint32(b[:4]) & 0x7fffffff, SecretKey: binary.BigEndian.Uint32(b[4:])}
		if _, taken := r.sessions[k.ProcessID]; taken || k.ProcessID == 0 {
			continue
		}
		r.sessions[k.ProcessID] = entry{secret: k.SecretKey, up: up}
		return k, nil
	}
}

// Unregister forgets the agent key k.
func (r *Registry) Unregister(k Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.sessions[k.ProcessID]; ok && e.secret == k.SecretKey {
		delete(r.sessions, k.ProcessID)
	}
}

// Errors of Cancel (also in the SessionCancel's Reason).
var (
	ErrRateLimited = errors.New("cancel requests from this address are rate-limited")
	ErrNoMatch     = errors.New("no session matches the cancel key")
)

// Cancel handles one CancelRequest from the address from: it matches the
// key in constant time, forwards the server's key over a new connection
// from the session's DialFunc, and returns the event to record. err is
// non-nil when nothing was forwarded.
func (r *Registry) Cancel(ctx context.Context, k Key, from net.Addr) (schemas.SessionCancel, error) {
	ev := schemas.SessionCancel{ClientAddr: addrString(from)}
	if !r.allow(from) {
		ev.Reason = ErrRateLimited.Error()
		return ev, ErrRateLimited
	}
	r.mu.Lock()
	e, found := r.sessions[k.ProcessID]
	r.mu.Unlock()
	// Compare the secret in constant time, also when no pid matched.
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], e.secret)
	var got [4]byte
	binary.BigEndian.PutUint32(got[:], k.SecretKey)
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !found {
		ev.Reason = ErrNoMatch.Error()
		return ev, ErrNoMatch
	}
	ev.SessionID, ev.Matched = e.up.SessionID, true
	if err := forward(ctx, e.up); err != nil {
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
	msg, err := (&pgproto3.CancelRequest{ProcessID: up.Key.ProcessID, SecretKey: up.Key.SecretKey}).Encode(nil)
	if err != nil {
		return fmt.Errorf("forward cancel: %w", err)
	}
	if _, err := conn.Write(msg); err != nil {
		return fmt.Errorf("forward cancel: write: %w", err)
	}
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (r *Registry) allow(from net.Addr) bool {
	// Per IPv4 address or IPv6 /64: one host holds a whole /64, and must
	// not get a fresh budget for guessing secrets from each address.
	host := recordlimit.Source(addrString(from))
	r.mu.Lock()
	defer r.mu.Unlock()
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
				return false
			}
		}
		l = rate.NewLimiter(r.opt.Rate, r.opt.Burst)
		r.limiters[host] = l
	}
	return l.Allow()
}
