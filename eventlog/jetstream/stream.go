package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/eventlog"
)

// ReadBatch is how many messages one pull request of Read and Follow asks
// for.
const ReadBatch = 8192

// Stream is an eventlog.Stream on one JetStream stream. It is safe for
// concurrent use.
type Stream struct {
	js      jetstream.JetStream
	st      jetstream.Stream
	name    string
	maxSize int

	// replicated: the stream has more than one copy, so a consumer's
	// view may lag the leader's (msgget.go); behindRestarts counts the
	// consumers recreated for it, for the tests, which may stand in for
	// the leader's answer (holds).
	replicated     bool
	behindRestarts atomic.Uint64
	holds          func(context.Context, *cursor) (bool, error) // leaderHolds; tests replace it

	ackOnce sync.Once
	ack     *acker
	ackErr  error

	// Direct reads (direct.go): the messages and bytes one asks for, and
	// what they did, for the tests.
	directBatch, directBytes int
	directBatches            atomic.Uint64
	directGiveUps            atomic.Uint64
	directLastGiveUp         atomic.Value // string
}

var _ eventlog.Stream = (*Stream)(nil)

// Option configures a Stream.
type Option func(*Stream)

// WithMaxEventSize bounds the JSON size of one event (default
// eventlog.DefaultMaxEventSize); it should match the Config used by
// Provision.
func WithMaxEventSize(n int) Option {
	return func(s *Stream) { s.maxSize = n }
}

// NewStream opens the existing JetStream stream name (see Provision).
func NewStream(ctx context.Context, js jetstream.JetStream, name string, opts ...Option) (*Stream, error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", name, mapErr(err))
	}
	s := &Stream{js: js, st: st, name: name, maxSize: eventlog.DefaultMaxEventSize,
		directBatch: directBatch, directBytes: directBytes, replicated: st.CachedInfo().Config.Replicas > 1}
	s.holds = s.leaderHolds
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Name returns the JetStream stream name.
func (s *Stream) Name() string { return s.name }

// JetStream returns the stream handle, for administration and tests.
func (s *Stream) JetStream() jetstream.Stream { return s.st }

// encode is the stored JSON of ev: data byte for byte, as the hash chain
// covers it (json.Marshal would HTML-escape "<", ">" and "&" in it).
func encode(ev *eventlog.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil // Encode appends a newline
}

func (s *Stream) msg(ev *eventlog.Event) (*nats.Msg, error) {
	raw, err := encode(ev)
	if err != nil {
		return nil, fmt.Errorf("append event %s: encode: %w", ev.ID, err)
	}
	if len(raw) > s.maxSize {
		return nil, fmt.Errorf("append event %s (%d bytes, max %d): %w", ev.ID, len(raw), s.maxSize, eventlog.ErrTooLarge)
	}
	m := &nats.Msg{Subject: ev.Subject, Data: raw, Header: nats.Header{}}
	if ev.ID != "" {
		m.Header[jetstream.MsgIDHeader] = []string{ev.ID}
	}
	return m, nil
}

// Append publishes ev on ev.Subject (see eventlog.Stream).
func (s *Stream) Append(ctx context.Context, ev eventlog.Event, opts ...eventlog.AppendOption) (uint64, error) {
	o := eventlog.ResolveAppendOptions(opts...)
	m, err := s.msg(&ev)
	if err != nil {
		return 0, err
	}
	var popts []jetstream.PublishOpt
	switch {
	case o.HasExpect && o.ExpectOn != "":
		popts = append(popts, jetstream.WithExpectLastSequenceForSubject(o.ExpectSubjectSeq, o.ExpectOn))
	case o.HasExpect:
		popts = append(popts, jetstream.WithExpectLastSequencePerSubject(o.ExpectSubjectSeq))
	}
	ack, err := s.js.PublishMsg(ctx, m, popts...)
	if err != nil {
		err = mapErr(err)
		if errors.Is(err, eventlog.ErrConflict) && ev.ID != "" {
			// JetStream checks the expectation before de-duplication: a
			// retried conditional append whose first try was stored
			// conflicts with itself. Recognize it.
			on := ev.Subject
			if o.ExpectOn != "" {
				on = o.ExpectOn
			}
			if seq, ok := s.storedLast(ctx, on, ev.ID); ok {
				return seq, nil
			}
		}
		return 0, fmt.Errorf("append event %s on %s: %w", ev.ID, ev.Subject, err)
	}
	return ack.Sequence, nil
}

// storedLast reports whether the last record on subject (a filter
// too) has event id id.
func (s *Stream) storedLast(ctx context.Context, subject, id string) (uint64, bool) {
	m, found, err := msgGet(ctx, s.js, s.name, msgGetRequest{LastFor: subject})
	if err != nil || !found || m.msgID != id {
		return 0, false
	}
	return m.seq, true
}

// appendWindow bounds the publishes of one AppendBatch awaiting their
// ack. The client refuses (after stalling) async publishes beyond its
// PublishAsyncMaxPending (4000 by default), so a larger batch is
// pipelined through this window instead of published all at once.
const appendWindow = 1024

// AppendBatch publishes evs asynchronously and waits for every
// acknowledgement (group commit), with at most appendWindow in flight, so
// any batch size works. On an error the sequences of the events
// acknowledged before the first failure are returned with it; later events
// of the batch may be stored too (a retry with the same ids is safe).
func (s *Stream) AppendBatch(ctx context.Context, evs []eventlog.Event) ([]uint64, error) {
	seqs := make([]uint64, 0, len(evs))
	futs := make([]jetstream.PubAckFuture, 0, len(evs))
	// waitUntil waits for the acks of events up to (excluding) n.
	waitUntil := func(n int) error {
		for len(seqs) < n {
			seq, err := s.waitAck(ctx, futs[len(seqs)], len(seqs))
			if err != nil {
				return err
			}
			seqs = append(seqs, seq)
		}
		return nil
	}
	for i := range evs {
		if len(futs)-len(seqs) >= appendWindow {
			if err := waitUntil(len(futs) - appendWindow + 1); err != nil {
				return seqs, err
			}
		}
		m, err := s.msg(&evs[i])
		if err == nil {
			var f jetstream.PubAckFuture
			f, err = s.js.PublishMsgAsync(m)
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && len(futs) > len(seqs) {
				// Other appends on the connection fill the client's
				// window: wait for ours, then try again.
				if werr := waitUntil(len(futs)); werr != nil {
					return seqs, werr
				}
				f, err = s.js.PublishMsgAsync(m)
			}
			if err == nil {
				futs = append(futs, f)
				continue
			}
			err = fmt.Errorf("append event %s: %w", evs[i].ID, mapErr(err))
		}
		if werr := waitUntil(len(futs)); werr != nil {
			return seqs, werr
		}
		return seqs, fmt.Errorf("append batch event %d: %w", i, err)
	}
	return seqs, waitUntil(len(futs))
}

// waitAck waits for event i's acknowledgement.
func (s *Stream) waitAck(ctx context.Context, f jetstream.PubAckFuture, i int) (uint64, error) {
	select {
	case ack := <-f.Ok():
		return ack.Sequence, nil
	case err := <-f.Err():
		return 0, fmt.Errorf("append batch event %d: %w", i, mapErr(err))
	case <-ctx.Done():
		return 0, fmt.Errorf("append batch: %w", mapErr(ctx.Err()))
	}
}

// LastSeq returns the stream's last sequence (0 when empty).
func (s *Stream) LastSeq(ctx context.Context) (uint64, error) {
	info, err := s.st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", s.name, mapErr(err))
	}
	return info.State.LastSeq, nil
}

// LastSubjectSeq returns the sequence of the last record on subject (0 when
// none), as the stream's leader has it: every append acknowledged before
// is seen.
func (s *Stream) LastSubjectSeq(ctx context.Context, subject string) (uint64, error) {
	m, _, err := msgGet(ctx, s.js, s.name, msgGetRequest{LastFor: subject})
	if err != nil {
		return 0, fmt.Errorf("last record on %s: %w", subject, mapErr(err))
	}
	return m.seq, nil
}

var _ eventlog.Informer = (*Stream)(nil)

// Info describes the stream: first and last stored sequence, retention and
// whether it refuses deletes and purges.
func (s *Stream) Info(ctx context.Context) (eventlog.StreamInfo, error) {
	info, err := s.st.Info(ctx)
	if err != nil {
		return eventlog.StreamInfo{}, fmt.Errorf("stream %s info: %w", s.name, mapErr(err))
	}
	out := eventlog.StreamInfo{FirstSeq: info.State.FirstSeq, FirstTime: info.State.FirstTime, LastSeq: info.State.LastSeq,
		MaxAge: info.Config.MaxAge, DenyDelete: info.Config.DenyDelete, DenyPurge: info.Config.DenyPurge}
	if info.State.Msgs == 0 {
		out.FirstSeq, out.FirstTime = 0, time.Time{}
	}
	return out, nil
}
