package subscriber

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
)

// batch is one fetch on its way to the sink: its messages in stream
// order, the items still to write (of the types the filter keeps) and, for
// each, the index of its message. The consumer acks all (an ack covers
// every message delivered before it), so the batch acks a prefix of its
// messages, never one past an item the sink has not accepted.
type batch struct {
	msgs        []jetstream.Msg
	items       []export.Item
	at          []int // items[i] is the event of msgs[at[i]]
	acked       int   // msgs[:acked] are acknowledged
	lastPending uint64
	// gap is set when a message's delivery is not the one expected: the
	// consumer delivered messages that this loop did not get.
	gap bool
}

// deliver writes msgs (skipping filtered types) until the sink accepted
// all, then acks the last. It returns early only when ctx ends, leaving
// the rest unacked for redelivery, or after a gap in the deliveries (an
// ack would cover messages this loop never got): it then writes nothing
// and recreates the consumer from its ack floor. It reports whether the
// batch went through at the first attempt.
func (l *loop) deliver(ctx context.Context, msgs []jetstream.Msg) bool {
	b := l.prepare(msgs)
	if b.gap {
		l.recover(ctx)
		return false
	}
	attempt := 0
	for len(b.items) > 0 {
		l.s.wmu.Lock()
		err := l.s.sink.Write(ctx, b.items)
		l.s.wmu.Unlock()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return false
		}
		l.keepFailed(b, err)
		l.fail(err)
		delay := backoff(l.s.cfg.Retry, attempt)
		var ra *export.RetryAfterError
		if errors.As(err, &ra) && ra.After > delay {
			delay = ra.After
		}
		attempt++
		l.setRetrying(true)
		l.s.log.Warn().Err(err).Int("events", len(b.items)).Dur("retry_in", delay).Str("stream", l.stream).Msg("export write failed; retrying")
		if !l.holdFor(ctx, b.msgs[b.acked:], delay) {
			return false
		}
		l.refreshLag(ctx)
	}
	l.ack(b, len(b.msgs), len(b.items))
	l.setRetrying(false)
	l.mu.Lock()
	l.lag = b.lastPending
	l.mu.Unlock()
	l.s.m.lag.WithLabelValues(l.s.cfg.Name, l.stream).Set(float64(b.lastPending))
	return attempt == 0
}

// prepare decodes and formats msgs. The documents share one buffer, cut
// once it stopped growing.
func (l *loop) prepare(msgs []jetstream.Msg) *batch {
	b := &batch{msgs: msgs, items: make([]export.Item, 0, len(msgs)), at: make([]int, 0, len(msgs))}
	ends := make([]int, 0, len(msgs))
	arena := make([]byte, 0, l.arenaHint)
	for i, m := range msgs {
		it := export.Item{Stream: l.stream}
		md, err := m.Metadata()
		if err != nil || md.Sequence.Consumer != l.nextDelivery {
			b.gap = true
			return b
		}
		l.nextDelivery++
		it.StreamSeq, b.lastPending = md.Sequence.Stream, md.NumPending
		var skip bool
		if arena, skip = l.item(arena, m, &it); skip {
			continue
		}
		b.items = append(b.items, it)
		b.at = append(b.at, i)
		ends = append(ends, len(arena))
	}
	start := 0
	for i, end := range ends {
		b.items[i].Doc = arena[start:end:end]
		start = end
	}
	l.arenaHint = max(l.arenaHint, len(arena))
	return b
}

// keepFailed keeps, after a *PartialError, only the items the sink
// refused, and acks the messages before the first of them.
func (l *loop) keepFailed(b *batch, err error) {
	var pe *export.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) == 0 || len(pe.Failed) >= len(b.items) {
		return
	}
	failed := make([]bool, len(b.items))
	for _, i := range pe.Failed {
		if i >= 0 && i < len(b.items) {
			failed[i] = true
		}
	}
	var items []export.Item
	var at []int
	for i := range b.items {
		if failed[i] {
			items = append(items, b.items[i])
			at = append(at, b.at[i])
		}
	}
	l.ack(b, at[0], len(b.items)-len(items))
	b.items, b.at = items, at
}

// ack acknowledges msgs[:n] (its last message: the consumer acks all) and
// counts written events exported.
func (l *loop) ack(b *batch, n, written int) {
	if n > b.acked {
		if err := b.msgs[n-1].Ack(); err != nil {
			// Unacked: redelivered later, de-duplicated downstream by id.
			l.s.log.Warn().Err(err).Msg("ack export messages")
		}
		b.acked = n
	}
	l.s.m.exported.WithLabelValues(l.s.cfg.Name, l.stream).Add(float64(written))
	l.mu.Lock()
	l.exported += uint64(written)
	l.lastSuccess = time.Now()
	l.mu.Unlock()
}

// item decodes one message into it and appends its document to arena. An
// event that does not decode or format is still delivered, as its raw
// stored JSON. skip reports an event of a type the filter leaves out.
func (l *loop) item(arena []byte, m jetstream.Msg, it *export.Item) (_ []byte, skip bool) {
	// A NATS message owns its data (the client allocates it per message and
	// never reuses it): the event aliases it rather than copying it.
	if err := eventlog.DecodeEventOwned(m.Data(), &it.Event); err != nil {
		l.s.log.Error().Err(err).Uint64("stream_seq", it.StreamSeq).Msg("undecodable event exported raw")
		return append(arena, rawDoc(m.Data())...), false
	}
	if l.s.types != nil && !l.s.types[it.Event.Type] {
		return arena, true
	}
	arena, err := l.s.fmt.Append(arena, &it.Event)
	if err != nil {
		l.s.log.Error().Err(err).Str("id", it.Event.ID).Msg("event exported in native format")
		arena = append(arena, rawDoc(m.Data())...)
	}
	return arena, false
}

func rawDoc(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	d, _ := json.Marshal(map[string]string{"raw": string(b)})
	return d
}

// holdFor waits d, telling JetStream the messages are still in progress so
// that they are not redelivered meanwhile. False when ctx ended.
func (l *loop) holdFor(ctx context.Context, msgs []jetstream.Msg, d time.Duration) bool {
	step := l.s.opts.AckWait / 3
	for {
		for _, m := range msgs {
			_ = m.InProgress()
		}
		if d <= step {
			return sleep(ctx, d)
		}
		if !sleep(ctx, step) {
			return false
		}
		d -= step
	}
}
