package auditpub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Chainer links events into the source's hash chain in append order; the
// Publisher reads and moves back its head when a spool write fails.
// *eventlog.Chainer is one; Checkpointer.Wrap returns one that also signs
// checkpoints.
type Chainer interface {
	Next(ev *eventlog.Event) error
	Last() (uint64, string)
	Reset(seq uint64, hash string)
}

var _ Chainer = (*eventlog.Chainer)(nil)

// Errors of Publish*: the events were not taken and the chain did not
// advance.
var (
	// ErrBacklog means the spool (or, without one, the memory queue) is
	// full because the log has been unreachable for a while.
	ErrBacklog = errors.New("audit publish queue full")
	// ErrSpool means writing or syncing the spool failed (a full or
	// failing disk).
	ErrSpool = errors.New("audit spool write failed")
	// ErrClosed means the Publisher was closed.
	ErrClosed = fmt.Errorf("audit publisher closed: %w", eventlog.ErrClosed)
)

// Options tune a Publisher.
type Options struct {
	// MaxBatch bounds the events of one AppendBatch (default 512).
	MaxBatch int
	// MaxQueue bounds the events held in memory (default 100000). Without
	// a spool it is the queue bound; with one, spooled events beyond it are
	// read back from disk.
	MaxQueue int
	// RetryMin and RetryMax bound the backoff after a failed append.
	RetryMin, RetryMax time.Duration
	// Linger is how long the drainer waits to gather more events when
	// what is queued holds no PublishSync's (async-only events: durable
	// in the spool, or in memory, already). One append per Linger instead of
	// one per query cuts the wakeups and NATS round trips that compete
	// with the relayed queries for CPU. A PublishSync cuts it short.
	// Default 2ms; negative: none.
	Linger time.Duration
	// AppendTimeout bounds one AppendBatch (default 5s).
	AppendTimeout time.Duration
	// MaxEventSize bounds one event's JSON (default
	// eventlog.DefaultMaxEventSize); a larger one is shrunk to fit
	// (schemas.Fit) before it is spooled, and one that cannot be (a type
	// with nothing to cut) is refused with eventlog.ErrTooLarge.
	MaxEventSize int
	// Spool, when set, receives every event (chained, as its stored JSON)
	// before Publish* returns; the publisher drains it to the stream and
	// acknowledges what was stored. The caller opens and closes it.
	Spool  *spool.Spool
	Logger zerolog.Logger
}

type waiter struct {
	done chan error
	last uint64 // sequence of the waiter's last event
}

type entry struct {
	seq uint64
	ev  eventlog.Event
	raw []byte // ev's stored JSON
}

// Publisher is the agent's audit publisher. It is safe for concurrent use.
type Publisher struct {
	stream eventlog.EncodedAppender
	chain  Chainer
	opt    Options

	mu      sync.Mutex
	cache   []entry // spooled (or queued) events not yet stored, by seq
	chead   int
	next    uint64 // sequence of the next event
	acked   uint64 // every event up to here is stored
	waiters []waiter
	closed  bool
	refused refusal // why events are refused now (see Health)
	offs    []int
	recs    [][]byte
	wake    chan struct{}
	syncNow chan struct{} // a PublishSync is waiting (ends a linger)

	stop chan struct{}
	done chan struct{}
}

// New starts a Publisher appending to stream (the audit stream), linking
// events into chain (nil: no chain). With opt.Spool, use Open instead,
// which resumes the chain from the spool.
func New(stream eventlog.EncodedAppender, chain Chainer, opt Options) *Publisher {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 512
	}
	if opt.MaxQueue <= 0 {
		opt.MaxQueue = 100000
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = 50 * time.Millisecond
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 5 * time.Second
	}
	if opt.Linger == 0 {
		opt.Linger = 2 * time.Millisecond
	}
	if opt.AppendTimeout <= 0 {
		opt.AppendTimeout = 5 * time.Second
	}
	if opt.MaxEventSize <= 0 {
		opt.MaxEventSize = eventlog.DefaultMaxEventSize
	}
	p := &Publisher{
		stream: stream, chain: chain, opt: opt, next: 1,
		wake: make(chan struct{}, 1), syncNow: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if opt.Spool != nil {
		p.next = opt.Spool.Next()
		p.acked = opt.Spool.Acked()
	}
	go p.run()
	return p
}

// Open starts a Publisher over sp: the hash chain resumes from the last
// spooled event (stored or not), and events spooled but not acknowledged
// before a restart are sent first.
func Open(stream eventlog.EncodedAppender, sp *spool.Spool, opt Options) (*Publisher, error) {
	ch, err := ResumeChain(sp)
	if err != nil {
		return nil, err
	}
	opt.Spool = sp
	return New(stream, ch, opt), nil
}

// ResumeChain returns a chain continuing from the newest event in sp (a
// new chain when sp never held one).
func ResumeChain(sp *spool.Spool) (*eventlog.Chainer, error) {
	last, ok := sp.Last()
	if !ok {
		return eventlog.NewChainer(0, ""), nil
	}
	var ev eventlog.Event
	if err := eventlog.DecodeEvent(last, &ev); err != nil {
		return nil, fmt.Errorf("resume audit chain from spool: %w", err)
	}
	return eventlog.NewChainer(ev.Seq, ev.Hash), nil
}

func (p *Publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// enqueue chains evs, spools them and queues them for the drainer, all
// under mu so that chain order is spool order is append order. A refusal
// because of the spool or the queue is noted for Health.
func (p *Publisher) enqueue(evs []eventlog.Event, w *waiter) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.enqueueLocked(evs, w)
	switch {
	case err == nil:
		if p.refused.err != nil {
			p.recoveredLocked()
		}
	case errors.Is(err, ErrBacklog), errors.Is(err, ErrSpool):
		p.refusedLocked(err, len(evs))
	}
	return err
}

// enqueueLocked is enqueue's work under mu: it refuses evs when closed or
// when the memory queue (without a spool) has no room, then chains and
// encodes them, spools them, queues them for the drainer and registers w.
// On a refusal the chain is back where it was.
func (p *Publisher) enqueueLocked(evs []eventlog.Event, w *waiter) error {
	if p.closed {
		return ErrClosed
	}
	if len(evs) == 0 {
		if w != nil {
			w.done <- nil
		}
		return nil
	}
	sp := p.opt.Spool
	if sp == nil && len(p.cache)-p.chead+len(evs) > p.opt.MaxQueue {
		return ErrBacklog
	}
	head := p.chainHead()
	buf, err := p.encodeLocked(evs)
	if err != nil {
		p.resetChain(head)
		return err
	}
	first := p.next
	if sp != nil {
		if first, err = p.spoolLocked(sp, buf, len(evs)); err != nil {
			p.resetChain(head)
			return err
		}
	}
	p.next = first + uint64(len(evs))
	p.queueLocked(evs, buf, first)
	p.addWaiterLocked(w)
	p.signal()
	return nil
}

// chainLink is a position of the chain: its last sequence and hash.
type chainLink struct {
	seq  uint64
	hash string
}

// chainHead is where the chain stands (zero without a chain).
func (p *Publisher) chainHead() chainLink {
	if p.chain == nil {
		return chainLink{}
	}
	seq, hash := p.chain.Last()
	return chainLink{seq: seq, hash: hash}
}

// resetChain moves the chain back to head, undoing the links of a refused
// call.
func (p *Publisher) resetChain(head chainLink) {
	if p.chain != nil {
		p.chain.Reset(head.seq, head.hash)
	}
}

// encodeLocked links evs into the chain (or, without one, compacts their
// Data) and returns each event's stored JSON, in one buffer per call that
// the queued entries share (and keep until stored); p.offs[i] is where
// event i's ends. An event over MaxEventSize is shrunk to fit. On an error
// the chain may have moved: the caller resets it.
func (p *Publisher) encodeLocked(evs []eventlog.Event) ([]byte, error) {
	size := 0
	for i := range evs {
		size += len(evs[i].Data) + len(evs[i].ID) + len(evs[i].Subject) + len(evs[i].Source) + len(evs[i].Actor) + 300
	}
	buf := make([]byte, 0, size)
	p.offs = p.offs[:0]
	for i := range evs {
		var err error
		if p.chain != nil {
			err = p.chain.Next(&evs[i]) // compacts Data
		} else {
			evs[i].Data, err = eventlog.CompactData(evs[i].Data)
		}
		if err != nil {
			return nil, fmt.Errorf("audit event %s: %w", evs[i].ID, err)
		}
		start := len(buf)
		buf = eventlog.AppendJSON(buf, &evs[i], true)
		if len(buf)-start > p.opt.MaxEventSize {
			// Never dropped: shrunk to fit (schemas.Fit), chained again.
			if buf, err = p.fitLocked(buf[:start], &evs[i], len(buf)-start); err != nil {
				return nil, err
			}
		}
		p.offs = append(p.offs, len(buf))
	}
	return buf, nil
}

// spoolLocked appends the n events encoded in buf (ending at p.offs) to sp
// and returns the sequence of the first. A full spool is ErrBacklog (and
// notes for Health the room the call needed), a failed write ErrSpool.
func (p *Publisher) spoolLocked(sp *spool.Spool, buf []byte, n int) (uint64, error) {
	p.recs = p.recs[:0]
	start := 0
	for _, end := range p.offs {
		p.recs = append(p.recs, buf[start:end])
		start = end
	}
	first, err := sp.Append(p.recs...)
	clear(p.recs)
	if err != nil {
		if errors.Is(err, spool.ErrFull) {
			p.refused.need = int64(len(buf) + spool.HeaderLen*n)
			return 0, fmt.Errorf("%w: %w", ErrBacklog, err)
		}
		return 0, fmt.Errorf("%w: %w", ErrSpool, err)
	}
	return first, nil
}

// queueLocked queues evs, numbered from first and encoded in buf (ending
// at p.offs), for the drainer. With a spool, events that would take the
// memory queue past MaxQueue are not queued: the drainer reads them back
// from the spool.
func (p *Publisher) queueLocked(evs []eventlog.Event, buf []byte, first uint64) {
	if p.opt.Spool != nil && len(p.cache)-p.chead+len(evs) > p.opt.MaxQueue {
		return
	}
	start := 0
	for i := range evs {
		end := p.offs[i]
		p.cache = append(p.cache, entry{seq: first + uint64(i), ev: evs[i], raw: buf[start:end:end]})
		start = end
	}
}

// addWaiterLocked registers w (nil: none) to be told once the events up to
// the last one taken are stored, and ends the drainer's linger.
func (p *Publisher) addWaiterLocked(w *waiter) {
	if w == nil {
		return
	}
	w.last = p.next - 1
	p.waiters = append(p.waiters, *w)
	select {
	case p.syncNow <- struct{}{}:
	default:
	}
}

// fitLocked shrinks ev, whose stored JSON of size bytes is over the bound,
// to fit it (schemas.Fit: its texts, names and parameters cut, flagged and
// hashed), links it again in its place in the chain and appends its JSON
// to buf.
func (p *Publisher) fitLocked(buf []byte, ev *eventlog.Event, size int) ([]byte, error) {
	budget := p.opt.MaxEventSize - (size - len(ev.Data)) // the envelope's size does not change
	data, err := schemas.Fit(ev.Type, ev.V, ev.Data, budget)
	if err != nil {
		return buf, fmt.Errorf("audit event %s (%d bytes): %w", ev.ID, size, err)
	}
	ev.Data, ev.Hash = data, ""
	if p.chain != nil {
		p.chain.Reset(ev.Seq-1, ev.Prev)
		if err := p.chain.Next(ev); err != nil {
			return buf, fmt.Errorf("audit event %s: %w", ev.ID, err)
		}
	}
	start := len(buf)
	buf = eventlog.AppendJSON(buf, ev, true)
	if len(buf)-start > p.opt.MaxEventSize {
		return buf[:start], fmt.Errorf("audit event %s (%d bytes after shrinking): %w", ev.ID, len(buf)-start, eventlog.ErrTooLarge)
	}
	return buf, nil
}

var waiterPool = sync.Pool{New: func() any { return make(chan error, 1) }}

// PublishSync spools evs and waits until they are stored. On an error
// other than ErrBacklog, eventlog.ErrTooLarge or a data error, the events
// stay spooled and will be stored later (at least once): the caller must
// treat the queries as not run and record that.
func (p *Publisher) PublishSync(ctx context.Context, evs []eventlog.Event) error {
	ch := waiterPool.Get().(chan error)
	if err := p.enqueue(evs, &waiter{done: ch}); err != nil {
		waiterPool.Put(ch)
		return err
	}
	select {
	case err := <-ch:
		waiterPool.Put(ch)
		return err
	case <-ctx.Done():
		// ch may still receive: do not reuse it.
		return ctx.Err()
	}
}

// TryPublishAsync spools evs (durable once it returns) for publishing, or
// fails, taking none of them: ErrBacklog when the spool is full, ErrSpool
// when it cannot be written, ErrClosed, eventlog.ErrTooLarge, or a data
// error. It never waits for the log. It keeps no reference to evs (see
// relay.Publisher).
func (p *Publisher) TryPublishAsync(evs []eventlog.Event) error {
	return p.enqueue(evs, nil)
}

// Pending returns the number of events taken but not yet stored.
func (p *Publisher) Pending() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next - 1 - p.acked
}

// Close stops accepting events, tries to store what is pending until ctx
// ends, and stops. Events still pending stay in the spool (if any) for the
// next Open. The spool is not closed.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.signal()
	var err error
	for {
		left := p.Pending()
		if left == 0 {
			break
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			err = fmt.Errorf("close audit publisher with %d events unstored: %w", left, ctx.Err())
		case <-t.C:
		}
		t.Stop()
		if err != nil {
			break
		}
	}
	close(p.stop)
	<-p.done
	return err
}
