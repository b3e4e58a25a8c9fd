package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/tollgate-db/tollgate/eventlog"
)

// AppendEncoded stores evs in order, like AppendBatch, but publishes
// raw[i] as event i's stored JSON instead of encoding evs[i]: a caller that
// already holds each event's canonical JSON (the agent's audit publisher,
// which hashed it for the chain) saves the encoding. evs[i] supplies the
// subject and the id (Nats-Msg-Id); raw[i] must be evs[i]'s JSON (it is
// not checked beyond its size). It returns once every event is
// acknowledged. On an error some events may be stored; a retry with the
// same ids stores each once.
//
// The publishes are pipelined on the connection with one reply
// subscription shared by all batches, and each ack is parsed without
// allocating: per event this costs one header encoding and one reply
// subject, against an encoder, a message, a future and an ack decoder on
// the generic path.
func (s *Stream) AppendEncoded(ctx context.Context, evs []eventlog.Event, raw [][]byte) error {
	if len(evs) != len(raw) {
		return fmt.Errorf("append encoded: %d events, %d encodings", len(evs), len(raw))
	}
	if len(evs) == 0 {
		return nil
	}
	for i := range raw {
		if len(raw[i]) > s.maxSize {
			return fmt.Errorf("append event %s (%d bytes, max %d): %w", evs[i].ID, len(raw[i]), s.maxSize, eventlog.ErrTooLarge)
		}
	}
	a, err := s.acker()
	if err != nil {
		return err
	}
	// A batch's acks must fit the ack queue: a larger one goes in chunks,
	// in order, each acknowledged before the next is sent.
	for len(evs) > encodedChunk {
		if err := s.appendEncoded(ctx, a, evs[:encodedChunk], raw[:encodedChunk]); err != nil {
			return err
		}
		evs, raw = evs[encodedChunk:], raw[encodedChunk:]
	}
	return s.appendEncoded(ctx, a, evs, raw)
}

// encodedChunk bounds the events of one pipelined batch of AppendEncoded
// (well under ackQueue, which concurrent batches share).
const encodedChunk = 4096

func (s *Stream) appendEncoded(ctx context.Context, a *acker, evs []eventlog.Event, raw [][]byte) error {
	b := a.begin(len(evs))
	defer a.end(b)
	m := &b.msg
	for i := range evs {
		m.Subject, m.Data = evs[i].Subject, raw[i]
		if evs[i].ID != "" {
			b.id[0] = evs[i].ID
			m.Header[jetstream.MsgIDHeader] = b.id
		} else {
			delete(m.Header, jetstream.MsgIDHeader)
		}
		b.reply = append(b.reply[:b.prefixLen], strconv.Itoa(i)...)
		m.Reply = string(b.reply)
		if err := a.nc.PublishMsg(m); err != nil {
			return fmt.Errorf("append event %s: %w", evs[i].ID, mapErr(err))
		}
	}
	// The caller reads the acks itself (from whichever batch they are):
	// no goroutine hop between the connection's reader and the waiter.
	for {
		select {
		case <-b.done:
			if b.err != nil {
				return b.err
			}
			return nil
		case m := <-a.ch:
			a.handle(m)
		case <-ctx.Done():
			return fmt.Errorf("append batch: %w", mapErr(ctx.Err()))
		}
	}
}

// ackQueue bounds the acks waiting in the channel; beyond it the
// connection drops them (slow consumer) and the batch times out and is
// retried, stored once.
const ackQueue = 16384

// acker routes publish acks to their batch. Reply subjects are
// <prefix>.<batch>.<index>.
type acker struct {
	nc     *nats.Conn
	prefix string
	sub    *nats.Subscription
	ch     chan *nats.Msg

	mu      sync.Mutex
	nextID  uint64
	batches map[uint64]*pubBatch
	free    []*pubBatch
}

type pubBatch struct {
	bid       uint64
	n         int
	acked     int
	seen      []bool
	err       error
	done      chan struct{}
	msg       nats.Msg
	id        []string // the Nats-Msg-Id header value, reused
	reply     []byte
	prefixLen int
}

func (s *Stream) acker() (*acker, error) {
	s.ackOnce.Do(func() {
		nc := s.js.Conn()
		a := &acker{nc: nc, prefix: "_TGACK." + nuid.Next(), batches: map[uint64]*pubBatch{}, ch: make(chan *nats.Msg, ackQueue)}
		sub, err := nc.ChanSubscribe(a.prefix+".>", a.ch)
		if err != nil {
			s.ackErr = fmt.Errorf("append: ack subscription: %w", mapErr(err))
			return
		}
		a.sub = sub
		s.ack = a
	})
	return s.ack, s.ackErr
}

func (a *acker) begin(n int) *pubBatch {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b *pubBatch
	if k := len(a.free); k > 0 {
		b, a.free = a.free[k-1], a.free[:k-1]
	} else {
		b = &pubBatch{msg: nats.Msg{Header: nats.Header{}}, id: make([]string, 1)}
	}
	a.nextID++
	b.bid, b.n, b.acked, b.err = a.nextID, n, 0, nil
	b.done = make(chan struct{})
	if cap(b.seen) < n {
		b.seen = make([]bool, n)
	}
	b.seen = b.seen[:n]
	clear(b.seen)
	b.reply = append(b.reply[:0], a.prefix...)
	b.reply = append(b.reply, '.')
	b.reply = strconv.AppendUint(b.reply, b.bid, 10)
	b.reply = append(b.reply, '.')
	b.prefixLen = len(b.reply)
	a.batches[b.bid] = b
	return b
}

// end forgets b; an ack arriving later is dropped.
func (a *acker) end(b *pubBatch) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.batches, b.bid)
	b.msg.Data, b.msg.Subject, b.msg.Reply = nil, "", ""
	b.id[0] = ""
	if len(a.free) < 64 {
		a.free = append(a.free, b)
	}
}

// handle records one ack.
func (a *acker) handle(m *nats.Msg) {
	rest := m.Subject[len(a.prefix)+1:]
	dot := strings.IndexByte(rest, '.')
	if dot < 0 {
		return
	}
	bid, err1 := strconv.ParseUint(rest[:dot], 10, 64)
	idx, err2 := strconv.Atoi(rest[dot+1:])
	if err1 != nil || err2 != nil {
		return
	}
	err := parseAck(m)
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.batches[bid]
	if b == nil || idx < 0 || idx >= b.n || b.seen[idx] {
		return
	}
	b.seen[idx] = true
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("append batch event %d: %w", idx, err)
	}
	b.acked++
	if b.acked == b.n {
		close(b.done)
	}
}

var (
	ackStream = []byte(`"stream":`)
	ackError  = []byte(`"error":`)
)

// parseAck returns nil for a stored message ({"stream":…,"seq":…}) and
// the server's error otherwise, decoding only when it is an error.
func parseAck(m *nats.Msg) error {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return fmt.Errorf("%w: %w", eventlog.ErrUnavailable, nats.ErrNoResponders)
		}
		return fmt.Errorf("%w: empty publish ack", eventlog.ErrUnavailable)
	}
	if bytes.Contains(m.Data, ackStream) && !bytes.Contains(m.Data, ackError) {
		return nil
	}
	var resp struct {
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error == nil {
		return fmt.Errorf("invalid publish ack %q", m.Data)
	}
	return mapErr(resp.Error)
}
