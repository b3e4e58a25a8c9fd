package memlog

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Option configures a Stream.
type Option func(*Stream)

// WithMaxEventSize bounds the JSON size of one event (default
// eventlog.DefaultMaxEventSize).
func WithMaxEventSize(n int) Option {
	return func(s *Stream) { s.maxSize = n }
}

// WithClock sets the clock that stamps each record's stored time, which
// Query.FromTime and Query.ToTime compare against (default the system clock).
func WithClock(c eventlog.Clock) Option {
	return func(s *Stream) { s.clock = c }
}

// Stream is an in-memory eventlog.Stream. It is safe for concurrent use.
type Stream struct {
	name    string
	maxSize int
	clock   eventlog.Clock

	mu        sync.Mutex
	recs      []stored
	ids       map[string]uint64
	bySubject map[string]uint64
	changed   chan struct{} // closed and replaced on every append
}

type stored struct {
	rec    eventlog.Record
	stored time.Time
}

var _ eventlog.Stream = (*Stream)(nil)

// New returns an empty stream called name.
func New(name string, opts ...Option) *Stream {
	s := &Stream{
		name:      name,
		maxSize:   eventlog.DefaultMaxEventSize,
		clock:     eventlog.SystemClock{},
		ids:       make(map[string]uint64),
		bySubject: make(map[string]uint64),
		changed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name returns the stream name.
func (s *Stream) Name() string { return s.name }

// Append stores ev and returns its stream sequence (see eventlog.Stream).
func (s *Stream) Append(ctx context.Context, ev eventlog.Event, opts ...eventlog.AppendOption) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("append event: %w", err)
	}
	o := eventlog.ResolveAppendOptions(opts...)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendLocked(ev, o)
}

// AppendBatch stores evs in order and returns their sequences. On an error
// the events before the failing one stay stored and their sequences are
// returned with the error.
func (s *Stream) AppendBatch(ctx context.Context, evs []eventlog.Event) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seqs := make([]uint64, 0, len(evs))
	for i := range evs {
		seq, err := s.appendLocked(evs[i], eventlog.AppendOptions{})
		if err != nil {
			return seqs, fmt.Errorf("append batch event %d: %w", i, err)
		}
		seqs = append(seqs, seq)
	}
	return seqs, nil
}

// AppendEncoded stores raw[i] as event i (decoded: what is stored is
// raw, not evs), in order; like AppendBatch, the events before a failing
// one stay stored.
func (s *Stream) AppendEncoded(ctx context.Context, evs []eventlog.Event, raw [][]byte) error {
	if len(evs) != len(raw) {
		return fmt.Errorf("append encoded: %d events, %d encodings", len(evs), len(raw))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range raw {
		if len(raw[i]) > s.maxSize {
			return fmt.Errorf("append event %s (%d bytes, max %d): %w", evs[i].ID, len(raw[i]), s.maxSize, eventlog.ErrTooLarge)
		}
		var ev eventlog.Event
		if err := eventlog.DecodeEvent(raw[i], &ev); err != nil {
			return fmt.Errorf("append batch event %d: %w", i, err)
		}
		if ev.ID != evs[i].ID || ev.Subject != evs[i].Subject {
			return fmt.Errorf("append batch event %d: the encoding is of event %s on %s, not %s on %s", i, ev.ID, ev.Subject, evs[i].ID, evs[i].Subject)
		}
		if _, err := s.appendLocked(ev, eventlog.AppendOptions{}); err != nil {
			return fmt.Errorf("append batch event %d: %w", i, err)
		}
	}
	return nil
}

func (s *Stream) appendLocked(ev eventlog.Event, o eventlog.AppendOptions) (uint64, error) {
	if ev.ID != "" {
		if seq, ok := s.ids[ev.ID]; ok {
			return seq, nil
		}
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("append event: encode: %w", err)
	}
	if len(raw) > s.maxSize {
		return 0, fmt.Errorf("append event %s (%d bytes, max %d): %w", ev.ID, len(raw), s.maxSize, eventlog.ErrTooLarge)
	}
	if o.HasExpect {
		on, last := ev.Subject, s.bySubject[ev.Subject]
		if o.ExpectOn != "" {
			on, last = o.ExpectOn, s.lastOnLocked(o.ExpectOn)
		}
		if last != o.ExpectSubjectSeq {
			return 0, fmt.Errorf("append event on %s: expected last sequence %d, have %d: %w",
				on, o.ExpectSubjectSeq, last, eventlog.ErrConflict)
		}
	}
	// Keep our own copy: the caller may reuse its buffer.
	var cp eventlog.Event
	if err := json.Unmarshal(raw, &cp); err != nil {
		return 0, fmt.Errorf("append event: decode: %w", err)
	}
	seq := uint64(len(s.recs)) + 1
	s.recs = append(s.recs, stored{rec: eventlog.Record{StreamSeq: seq, Event: cp}, stored: s.clock.Now()})
	if ev.ID != "" {
		s.ids[ev.ID] = seq
	}
	s.bySubject[ev.Subject] = seq
	close(s.changed)
	s.changed = make(chan struct{})
	return seq, nil
}

// Read calls fn for each matching record present when Read was called.
func (s *Stream) Read(ctx context.Context, q eventlog.Query, fn func(eventlog.Record) error) error {
	c := newCursor(q)
	s.mu.Lock()
	end := uint64(len(s.recs))
	s.mu.Unlock()
	_, err := s.deliver(ctx, c, end, fn)
	return err
}

// Follow is Read followed by live delivery until ctx ends (returning its
// error), fn fails, or q's upper bound or Limit is reached (returning nil).
func (s *Stream) Follow(ctx context.Context, q eventlog.Query, fn func(eventlog.Record) error) error {
	c := newCursor(q)
	for {
		s.mu.Lock()
		end := uint64(len(s.recs))
		changed := s.changed
		s.mu.Unlock()
		if c.next <= end {
			done, err := s.deliver(ctx, c, end, fn)
			if err != nil || done {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// cursor is the position of one Read or Follow.
type cursor struct {
	q    eventlog.Query
	next uint64
	n    int
}

func newCursor(q eventlog.Query) *cursor {
	c := &cursor{q: q, next: 1}
	if q.FromSeq > 1 {
		c.next = q.FromSeq
	}
	return c
}

// deliver sends the records c.next..end matching the query to fn and reports
// whether the query's bounds are exhausted.
func (s *Stream) deliver(ctx context.Context, c *cursor, end uint64, fn func(eventlog.Record) error) (bool, error) {
	q := c.q
	if q.ToSeq > 0 && end > q.ToSeq {
		end = q.ToSeq
	}
	for ; c.next <= end; c.next++ {
		if q.Limit > 0 && c.n >= q.Limit {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return true, err
		}
		s.mu.Lock()
		st := s.recs[c.next-1]
		s.mu.Unlock()
		if !q.FromTime.IsZero() && st.stored.Before(q.FromTime) {
			continue
		}
		if !q.ToTime.IsZero() && st.stored.After(q.ToTime) {
			return true, nil
		}
		if !eventlog.SubjectsMatch(q.Subjects, st.rec.Event.Subject) {
			continue
		}
		if err := fn(st.rec); err != nil {
			return true, err
		}
		c.n++
	}
	done := (q.Limit > 0 && c.n >= q.Limit) || (q.ToSeq > 0 && c.next > q.ToSeq)
	return done, nil
}

// LastSeq returns the sequence of the last record (0 when empty).
func (s *Stream) LastSeq(ctx context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.recs)), nil
}

// lastOnLocked is the sequence of the last record on a subject matching
// filter (0: none).
func (s *Stream) lastOnLocked(filter string) uint64 {
	for i := len(s.recs) - 1; i >= 0; i-- {
		if eventlog.SubjectMatch(filter, s.recs[i].rec.Event.Subject) {
			return s.recs[i].rec.StreamSeq
		}
	}
	return 0
}

// LastSubjectSeq returns the sequence of the last record on subject (0 when
// none).
func (s *Stream) LastSubjectSeq(ctx context.Context, subject string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySubject[subject], nil
}

var _ eventlog.Informer = (*Stream)(nil)

// Info describes the stream: records are kept forever and never deleted.
func (s *Stream) Info(ctx context.Context) (eventlog.StreamInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := eventlog.StreamInfo{LastSeq: uint64(len(s.recs)), DenyDelete: true, DenyPurge: true}
	if len(s.recs) > 0 {
		out.FirstSeq, out.FirstTime = 1, s.recs[0].stored
	}
	return out, nil
}
