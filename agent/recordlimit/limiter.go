package recordlimit

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultWindow     = 10 * time.Second
	DefaultBurst      = 10
	DefaultMaxSources = 4096
)

// Options tune a Limiter. A zero number takes its default; a negative one
// is refused.
type Options struct {
	// Window is the period of each source's budget (default 10s).
	Window time.Duration
	// Burst is how many events of one kind from one source are recorded in
	// full per window (default 10).
	Burst int
	// MaxSources bounds the (source, kind) entries tracked (default 4096).
	MaxSources int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Summary is what a window left unrecorded for one source and kind.
type Summary struct {
	Kind string
	// Source is the source key (see Source); empty for the overflow entry.
	Source string
	// Suppressed counts the events counted but not recorded one by one.
	Suppressed int
	// Last is the payload given with the last of them.
	Last any
	// Overflow is set when the events came from sources past MaxSources.
	Overflow bool
}

type key struct{ kind, source string }

type entry struct {
	start      time.Time
	recorded   int
	suppressed int
	last       any
}

// Limiter decides which events to record in full. Safe for concurrent use.
type Limiter struct {
	opt      Options
	mu       sync.Mutex
	entries  map[key]*entry
	overflow map[string]*entry
}

// New returns a Limiter with opt's defaults filled, or an error naming a
// negative option.
func New(opt Options) (*Limiter, error) {
	switch {
	case opt.Window < 0:
		return nil, fmt.Errorf("recordlimit: Window %v is negative", opt.Window)
	case opt.Burst < 0:
		return nil, fmt.Errorf("recordlimit: Burst %d is negative", opt.Burst)
	case opt.MaxSources < 0:
		return nil, fmt.Errorf("recordlimit: MaxSources %d is negative", opt.MaxSources)
	}
	if opt.Window == 0 {
		opt.Window = DefaultWindow
	}
	if opt.Burst == 0 {
		opt.Burst = DefaultBurst
	}
	if opt.MaxSources == 0 {
		opt.MaxSources = DefaultMaxSources
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Limiter{opt: opt, entries: map[key]*entry{}, overflow: map[string]*entry{}}, nil
}

// Window returns the window in force.
func (l *Limiter) Window() time.Duration { return l.opt.Window }

// Source is the key an address is counted under: the IPv4 address, the
// IPv6 /64 prefix, or the address as given when it is not an IP.
func Source(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// Allow reports whether an event of kind from addr is to be recorded in
// full. When not, it is counted and payload kept as the last one, for the
// window's summary. The summaries of windows that ended meanwhile (this
// source's, or others' freed to make room) are returned: record them first.
func (l *Limiter) Allow(kind, addr string, payload any) (bool, []Summary) {
	now := l.opt.Now()
	k := key{kind, Source(addr)}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Summary
	e := l.entries[k]
	if e != nil && l.ended(e, now) {
		out = appendSummary(out, k, e, false)
		*e = entry{start: now}
	}
	if e == nil {
		if len(l.entries) >= l.opt.MaxSources {
			out = l.dueLocked(out, now)
		}
		if len(l.entries) >= l.opt.MaxSources {
			o := l.overflow[kind]
			if o == nil || l.ended(o, now) {
				if o != nil {
					out = appendSummary(out, key{kind: kind}, o, true)
				}
				o = &entry{start: now}
				l.overflow[kind] = o
			}
			o.suppressed++
			o.last = payload
			return false, out
		}
		e = &entry{start: now}
		l.entries[k] = e
	}
	if e.recorded < l.opt.Burst {
		e.recorded++
		return true, out
	}
	e.suppressed++
	e.last = payload
	return false, out
}

// Due returns the summaries of the windows that have ended and forgets
// those entries.
func (l *Limiter) Due() []Summary {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dueLocked(nil, now)
}

// Flush returns every pending summary, ended or not, and forgets every
// entry (at shutdown).
func (l *Limiter) Flush() []Summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Summary
	for k, e := range l.entries {
		out = appendSummary(out, k, e, false)
		delete(l.entries, k)
	}
	for kind, o := range l.overflow {
		out = appendSummary(out, key{kind: kind}, o, true)
		delete(l.overflow, kind)
	}
	return out
}

// Tracked returns the number of entries held (overflow included).
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries) + len(l.overflow)
}

func (l *Limiter) ended(e *entry, now time.Time) bool {
	return !now.Before(e.start.Add(l.opt.Window))
}

func (l *Limiter) dueLocked(out []Summary, now time.Time) []Summary {
	for k, e := range l.entries {
		if l.ended(e, now) {
			out = appendSummary(out, k, e, false)
			delete(l.entries, k)
		}
	}
	for kind, o := range l.overflow {
		if l.ended(o, now) {
			out = appendSummary(out, key{kind: kind}, o, true)
			delete(l.overflow, kind)
		}
	}
	return out
}

func appendSummary(out []Summary, k key, e *entry, overflow bool) []Summary {
	if e.suppressed == 0 {
		return out
	}
	return append(out, Summary{Kind: k.kind, Source: k.source, Suppressed: e.suppressed, Last: e.last, Overflow: overflow})
}
