package eventlog

import (
	"context"
	"time"
)

// Stream names (DESIGN §3).
const (
	ControlStream = "TOLLGATE_CONTROL"
	AuditStream   = "TOLLGATE_AUDIT"
)

// Stream is one append-only, ordered log of events. Implementations:
// eventlog/jetstream and eventlog/memlog; both run eventlog/logtest.
type Stream interface {
	// Name returns the stream name (ControlStream or AuditStream).
	Name() string
	// Append stores ev and returns its stream sequence. The event id is used
	// for de-duplication: appending the same id twice stores it once and
	// returns the first sequence. With ExpectLastSubjectSeq, a stale
	// expectation fails with ErrConflict. An event over the size bound fails
	// with ErrTooLarge.
	Append(ctx context.Context, ev Event, opts ...AppendOption) (uint64, error)
	// AppendBatch stores events in order, pipelining the writes (group
	// commit), and returns their sequences once all are acknowledged.
	AppendBatch(ctx context.Context, evs []Event) ([]uint64, error)
	// AppendEncoded is AppendBatch for events whose stored JSON the caller
	// already built (AppendJSON with the hash, as the agent's publisher
	// does while chaining): raw[i] is stored as event i, evs[i] supplies
	// its subject and id. raw[i] must be evs[i]'s JSON; len(raw) must be
	// len(evs). An encoding over the size bound fails with ErrTooLarge.
	AppendEncoded(ctx context.Context, evs []Event, raw [][]byte) error
	// Read calls fn for each stored record matching q, in order, up to the
	// last record present when Read was called (or q's upper bound), then
	// returns. An error from fn stops the read and is returned.
	Read(ctx context.Context, q Query, fn func(Record) error) error
	// Follow is Read followed by live delivery of new records, with no gap
	// and no duplicate between the two, until ctx ends or fn fails.
	Follow(ctx context.Context, q Query, fn func(Record) error) error
	// LastSeq returns the sequence of the last record in the stream (0 when
	// empty).
	LastSeq(ctx context.Context) (uint64, error)
	// LastSubjectSeq returns the sequence of the last record on subject (0
	// when none): the value to pass to ExpectLastSubjectSeq.
	LastSubjectSeq(ctx context.Context, subject string) (uint64, error)
}

// Query selects records. Zero values mean "no bound".
type Query struct {
	// Subjects filters by NATS subject patterns (`*` and `>` wildcards).
	// Empty means every subject of the stream.
	Subjects []string
	FromSeq  uint64    // first stream sequence, inclusive
	FromTime time.Time // first event time, inclusive (stored time)
	ToSeq    uint64    // last stream sequence, inclusive
	ToTime   time.Time // last event time, inclusive
	Limit    int       // stop after this many records
}

// AppendOptions is the resolved form of AppendOption values.
type AppendOptions struct {
	// ExpectSubjectSeq, when HasExpect is set, is the sequence the last
	// record on the event's subject must have (0: no record yet).
	ExpectSubjectSeq uint64
	HasExpect        bool
}

// AppendOption configures one Append.
type AppendOption func(*AppendOptions)

// ExpectLastSubjectSeq makes the append conditional on the last record of
// the event's subject having sequence seq (0: the subject is empty). A
// mismatch fails with ErrConflict.
func ExpectLastSubjectSeq(seq uint64) AppendOption {
	return func(o *AppendOptions) {
		o.ExpectSubjectSeq = seq
		o.HasExpect = true
	}
}

// ResolveAppendOptions applies opts in order.
func ResolveAppendOptions(opts ...AppendOption) AppendOptions {
	var o AppendOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}
