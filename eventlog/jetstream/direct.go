package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tollgate-db/tollgate/eventlog"
)

// A Read of a whole stream, and the catch-up of a Follow, from a sequence on
// (no subject filter, no time bounds: a projection's rebuild) goes through
// JetStream's batched direct get ($JS.API.DIRECT.GET.<stream>, allowed on
// the streams Provision makes) asking for messages without their headers.
// Per message that spares the server the consumer's ack subject and the
// client the parse of the headers (Nats-Msg-Id and the expectations) into a
// map, which is most of what reading costs besides our own decoding
// (BENCHMARKS.md, "Projection rebuild").
//
// A message without headers does not say its sequence. The batch's end
// (status 204, Nats-Last-Sequence) does: when a batch from sequence S ends
// at L and held L-S+1 messages, they were S…L, since the server sends
// distinct increasing sequences from S on. A batch with fewer (a gap: the
// aged-out head of the audit stream, a deleted message) is asked again with
// headers, whose Nats-Sequence numbers each message. Records are passed on
// only once their batch is numbered, in sequence order. Anything else — no
// responders (a stream without allow_direct), another status, a silent
// server (directIdle; a permission that refuses direct gets looks so) —
// hands the rest of the read to the consumer path from the next sequence,
// which reads everything a direct get can.
//
// Two requests are in flight, each for the sequences after the one before
// (each with its own reply subject: on a cluster replicas answer, so the
// answers may interleave), so the server is never idle between batches. A
// batch the server cut short (directBytes) leaves a hole before the next,
// which a request of its own fills.
const (
	directBatch    = 8192    // messages one direct get asks for
	directBytes    = 8 << 20 // the most message bytes the server sends for one
	directInFlight = 2
	directIdle     = 2 * time.Second // a silence that hands the read to consumers
	directDepth    = 4               // numbered batches held ahead of fn
)

// How nats.go presents a status line (NATS/1.0 204 EOB) in a message's
// headers.
const (
	statusHeader = "Status"
	descrHeader  = "Description"
)

// directEligible reports whether q may be read by direct gets.
func directEligible(q eventlog.Query) bool {
	return len(q.Subjects) == 0 && q.FromTime.IsZero() && q.ToTime.IsZero()
}

// directResult is one numbered batch, or the reader's giving up.
type directResult struct {
	recs   []delivery
	giveUp string // why the consumer path must take over ("" for a batch)
}

// directGet is one request in flight.
type directGet struct {
	reply   string // its own reply subject
	from, n uint64 // the sequences asked for: from on, n messages
	headers bool   // with the messages' headers (to number a batch with gaps)
	batch   []delivery
	last    uint64 // the batch's last sequence, once ended
	ended   bool
}

// directReader owns one inbox subscription; after readDirect started it,
// its fields below quit are used only by the subscription's goroutine.
type directReader struct {
	nc    *nats.Conn
	api   string // $JS.API.DIRECT.GET.<stream> (with the JetStream prefix)
	inbox string // replies go to inbox.<k>
	upper uint64
	batch uint64 // messages one request asks for
	bytes int    // the most bytes one request asks for
	out   chan directResult
	free  chan []delivery
	quit  chan struct{}

	flight  []*directGet // in sequence order
	next    uint64       // the first sequence no request has asked for
	covered uint64       // the last sequence passed on in a batch
	k       uint64       // requests made
	stopped bool
}

// readDirect delivers c's records from c.next up to the stream's last
// sequence (c.upper, or the last one now for a Follow) by direct gets.
// done and err are as consumeOnce's; (false, nil) means the consumer path
// goes on from c.next (a Follow's live part, or a fallback).
func (s *Stream) readDirect(ctx context.Context, c *cursor) (done bool, err error) {
	upper := c.upper
	if upper == 0 {
		if upper, err = s.LastSeq(ctx); err != nil || upper == 0 {
			return false, nil
		}
	}
	if c.next > upper {
		return !c.follow, nil
	}
	nc := s.js.Conn()
	r := &directReader{
		nc: nc, api: s.directAPI(), inbox: nc.NewInbox(), upper: upper,
		batch: uint64(s.directBatch), bytes: s.directBytes,
		out:  make(chan directResult, directDepth),
		free: make(chan []delivery, directDepth+directInFlight+2),
		quit: make(chan struct{}),
		next: c.next, covered: c.next - 1,
	}
	// The first requests are made before the subscription's goroutine
	// reads r, and published after it subscribed.
	var first []*directGet
	for len(r.flight) < directInFlight && r.next <= upper {
		first = append(first, r.add(r.next, min(r.batch, upper-r.next+1), false, len(r.flight)))
	}
	sub, err := nc.Subscribe(r.inbox+".*", r.handle)
	if err != nil {
		return false, nil
	}
	defer func() {
		close(r.quit)
		_ = sub.Unsubscribe()
	}()
	for _, g := range first {
		if reason := r.publish(g); reason != "" {
			s.directGaveUp(reason)
			return false, nil
		}
	}
	idle := time.NewTimer(directIdle)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-idle.C:
			s.directGaveUp("no answer")
			return false, nil
		case res := <-r.out:
			if res.giveUp != "" {
				s.directGaveUp(res.giveUp)
				return false, nil
			}
			idle.Reset(directIdle)
			s.directBatches.Add(1)
			if done, err := s.deliverDirect(c, res.recs); done || err != nil {
				return done, err
			}
			select {
			case r.free <- res.recs[:0]:
			default:
			}
			if c.next > upper {
				return !c.follow, nil
			}
		}
	}
}

// deliverDirect passes a numbered batch to c.fn.
func (s *Stream) deliverDirect(c *cursor, recs []delivery) (done bool, err error) {
	for i := range recs {
		d := &recs[i]
		seq := d.rec.StreamSeq
		if seq < c.next {
			continue // a batch with headers may overlap the next
		}
		if c.upper > 0 && seq > c.upper {
			return true, nil
		}
		c.next = seq + 1
		if d.decodeErr != nil {
			return true, fmt.Errorf("read %s: decode record %d: %w", s.name, seq, d.decodeErr)
		}
		if err := c.fn(d.rec); err != nil {
			return true, err
		}
		c.n++
		if c.q.Limit > 0 && c.n >= c.q.Limit {
			return true, nil
		}
	}
	return false, nil
}

// directAPI is the direct get subject of the stream under s.js's API
// prefix (a JetStream domain's, if any).
func (s *Stream) directAPI() string {
	return apiPrefix(s.js) + "DIRECT.GET." + s.name
}

// directGaveUp counts a read handed to the consumer path (the tests look).
func (s *Stream) directGaveUp(reason string) {
	s.directGiveUps.Add(1)
	s.directLastGiveUp.Store(reason)
}

// directRequest is the body of a batched direct get (JSApiMsgGetRequest).
type directRequest struct {
	Seq      uint64 `json:"seq"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes"`
	NoHdr    bool   `json:"no_hdr,omitempty"`
}

// add makes a request for n messages from seq on and puts it at position
// at of the flight (not published yet).
func (r *directReader) add(seq, n uint64, headers bool, at int) *directGet {
	r.k++
	g := &directGet{reply: r.inbox + "." + strconv.FormatUint(r.k, 10), from: seq, n: n, headers: headers}
	select {
	case g.batch = <-r.free:
	default:
	}
	r.flight = append(r.flight, nil)
	copy(r.flight[at+1:], r.flight[at:])
	r.flight[at] = g
	r.next = max(r.next, seq+n)
	return g
}

func (r *directReader) publish(g *directGet) string {
	body, _ := json.Marshal(directRequest{Seq: g.from, Batch: int(g.n), MaxBytes: r.bytes, NoHdr: !g.headers})
	if err := r.nc.PublishRequest(r.api, g.reply, body); err != nil {
		return "request: " + err.Error()
	}
	return ""
}

// handle takes one message of the inbox: a record of a request in flight,
// or a status ending it.
func (r *directReader) handle(m *nats.Msg) {
	if r.stopped {
		return
	}
	var g *directGet
	for _, f := range r.flight {
		if f.reply == m.Subject {
			g = f
		}
	}
	if g == nil || g.ended {
		return // an answer to a request replaced by one with headers
	}
	// A status line (nats.go gives it as the Status header) ends a batch;
	// with headers, a stored message's own headers could hold one too, but
	// only the server's copy of a message carries its Nats-Sequence.
	status := m.Header.Get(statusHeader)
	switch {
	case status == "" || (g.headers && m.Header.Get("Nats-Sequence") != ""):
		g.record(m)
		return
	case status != "204":
		r.giveUp("status " + status + " " + m.Header.Get(descrHeader))
		return
	}
	last, ok := decimal(m.Header.Get("Nats-Last-Sequence"))
	if !ok {
		r.giveUp("end of batch without its last sequence")
		return
	}
	g.last, g.ended = last, true
	if reason := r.advance(); reason != "" {
		r.giveUp(reason)
	}
}

// advance passes on the ended requests at the front of the flight, in
// order, and asks for what comes next; it returns why it cannot go on.
func (r *directReader) advance() string {
	for len(r.flight) > 0 && r.flight[0].ended {
		g := r.flight[0]
		if reason := g.number(); reason == "gap" && !g.headers {
			r.flight = r.flight[1:]
			return r.publish(r.add(g.from, g.n, true, 0))
		} else if reason != "" {
			return reason
		}
		if g.from > r.covered+1 {
			// Never reached: every sequence after covered is asked for
			// by the next request in the flight, or by none yet.
			return fmt.Sprintf("a batch from %d after %d", g.from, r.covered)
		}
		r.flight = r.flight[1:]
		r.covered = max(r.covered, g.last)
		if !r.send(directResult{recs: g.batch}) {
			return ""
		}
		if r.covered >= r.upper {
			r.stopped = true
			return ""
		}
		// A batch cut short leaves a hole before what was asked next.
		nextFrom := r.next
		if len(r.flight) > 0 {
			nextFrom = r.flight[0].from
		}
		if nextFrom > r.covered+1 {
			hole := r.add(r.covered+1, nextFrom-r.covered-1, false, 0)
			if reason := r.publish(hole); reason != "" {
				return reason
			}
		}
		r.next = max(r.next, r.covered+1)
	}
	for len(r.flight) < directInFlight && r.next <= r.upper {
		g := r.add(r.next, min(r.batch, r.upper-r.next+1), false, len(r.flight))
		if reason := r.publish(g); reason != "" {
			return reason
		}
	}
	return ""
}

// record decodes one message into the request's batch.
func (g *directGet) record(m *nats.Msg) {
	if g.batch == nil {
		g.batch = make([]delivery, 0, 1024)
	}
	g.batch = append(g.batch, delivery{})
	d := &g.batch[len(g.batch)-1]
	if g.headers {
		seq, ok := decimal(m.Header.Get("Nats-Sequence"))
		if !ok {
			seq = 0 // number refuses it
		}
		d.rec.StreamSeq = seq
	}
	// nats.go copies every message into a buffer of its own that nobody
	// writes again: the record may alias it.
	d.decodeErr = eventlog.DecodeEventOwned(m.Data, &d.rec.Event)
}

// number gives the request's batch its sequences; "gap" when a batch
// without headers cannot be numbered.
func (g *directGet) number() string {
	b := g.batch
	if len(b) == 0 {
		return "empty batch"
	}
	if !g.headers {
		if g.last < g.from || g.last-g.from+1 != uint64(len(b)) {
			return "gap"
		}
		for i := range b {
			b[i].rec.StreamSeq = g.from + uint64(i)
		}
		return ""
	}
	prev := g.from - 1
	for i := range b {
		seq := b[i].rec.StreamSeq
		if seq <= prev || seq > g.last {
			return fmt.Sprintf("message %d of a batch from %d numbered %d", i, g.from, seq)
		}
		prev = seq
	}
	if prev != g.last {
		return fmt.Sprintf("a batch from %d ended at %d, its last message %d", g.from, g.last, prev)
	}
	return ""
}

// giveUp tells readDirect to hand the read to the consumer path.
func (r *directReader) giveUp(reason string) {
	r.send(directResult{giveUp: reason})
	r.stopped = true
}

// send hands res to readDirect; false once it stopped listening.
func (r *directReader) send(res directResult) bool {
	select {
	case r.out <- res:
		return true
	case <-r.quit:
		r.stopped = true
		return false
	}
}
