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

// The roles of a stream. A consumer takes the smallest one it uses (or a
// combination of them defined where it is used), as nats.go's jetstream
// composes its managers and publishers; every implementation provides them
// all, through Stream.

// Appender stores events.
type Appender interface {
	// Append stores ev and returns its stream sequence. The event id is used
	// for de-duplication: appending the same id twice stores it once and
	// returns the first sequence. With ExpectLastSubjectSeq, a stale
	// expectation fails with ErrConflict. An event over the size bound fails
	// with ErrTooLarge.
	Append(ctx context.Context, ev Event, opts ...AppendOption) (uint64, error)
	// AppendBatch stores events in order, pipelining the writes (group
	// commit), and returns their sequences once all are acknowledged.
	AppendBatch(ctx context.Context, evs []Event) ([]uint64, error)
}

// EncodedAppender stores events whose stored JSON the caller already built.
type EncodedAppender interface {
	// AppendEncoded is AppendBatch for events whose stored JSON the caller
	// already built (AppendJSON with the hash, as the agent's publisher
	// does while chaining): raw[i] is stored as event i, evs[i] supplies
	// its subject and id. raw[i] must be evs[i]'s JSON; len(raw) must be
	// len(evs). An encoding over the size bound fails with ErrTooLarge.
	AppendEncoded(ctx context.Context, evs []Event, raw [][]byte) error
}

// Reader reads what is stored.
type Reader interface {
	// Read calls fn for each stored record matching q, in order, up to the
	// last record present when Read was called (or q's upper bound), then
	// returns. An error from fn stops the read and is returned.
	Read(ctx context.Context, q Query, fn func(Record) error) error
	// LastSeq returns the sequence of the last record in the stream (0 when
	// empty).
	LastSeq(ctx context.Context) (uint64, error)
	// LastSubjectSeq returns the sequence of the last record on subject (0
	// when none): the value to pass to ExpectLastSubjectSeq.
	LastSubjectSeq(ctx context.Context, subject string) (uint64, error)
}

// Follower reads what is stored and then what comes.
type Follower interface {
	// Follow is Read followed by live delivery of new records, with no gap
	// and no duplicate between the two, until ctx ends or fn fails.
	Follow(ctx context.Context, q Query, fn func(Record) error) error
}

// Stream is one append-only, ordered log of events: every role, and its
// name. Implementations: eventlog/jetstream and eventlog/memlog (and the
// WithValidator wrapper); all run eventlog/logtest.
type Stream interface {
	// Name returns the stream name (ControlStream or AuditStream).
	Name() string
	Appender
	EncodedAppender
	Reader
	Follower
	Informer
}

// StreamInfo is what a stream says about its own state and limits, for
// verification: whether a chain's missing start can be explained by
// retention, and whether deletes are refused.
type StreamInfo struct {
	// FirstSeq is the sequence of the first record still stored (1, or
	// more once records aged out); 0 when empty.
	FirstSeq uint64
	// FirstTime is when that record was stored.
	FirstTime time.Time
	LastSeq   uint64
	// MaxAge is how long records are kept (0: forever).
	MaxAge time.Duration
	// DenyDelete and DenyPurge say whether the stream refuses deleting
	// and purging records.
	DenyDelete, DenyPurge bool
}

// Informer describes the stream's own state and limits.
type Informer interface {
	// Info returns the stream's first and last stored sequence, its
	// retention and whether it refuses deletes and purges.
	Info(ctx context.Context) (StreamInfo, error)
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
	// ExpectOn, when set, is the subject filter (wildcards allowed) whose
	// last record the expectation is about, instead of the event's
	// subject.
	ExpectOn string
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

// ExpectLastSeqOn makes the append conditional on the last record of any
// subject matching filter having sequence seq (0: none matches yet): a
// writer of a hash chain spread over many subjects (control's audit
// events) appends only onto the head it chained from. A mismatch fails
// with ErrConflict.
func ExpectLastSeqOn(filter string, seq uint64) AppendOption {
	return func(o *AppendOptions) {
		o.ExpectSubjectSeq = seq
		o.HasExpect = true
		o.ExpectOn = filter
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
