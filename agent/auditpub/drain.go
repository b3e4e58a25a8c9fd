package auditpub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/eventlog"
)

// take returns the next batch from nextSeq out of the memory cache, with
// each event's stored JSON in raws.
func (p *Publisher) take(batch []eventlog.Event, raws [][]byte, nextSeq uint64) ([]eventlog.Event, [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.chead < len(p.cache) && p.cache[p.chead].seq < nextSeq {
		p.cache[p.chead] = entry{}
		p.chead++
	}
	for p.chead < len(p.cache) && len(batch) < p.opt.MaxBatch && p.cache[p.chead].seq == nextSeq+uint64(len(batch)) {
		batch = append(batch, p.cache[p.chead].ev)
		raws = append(raws, p.cache[p.chead].raw)
		p.cache[p.chead] = entry{}
		p.chead++
	}
	if p.chead == len(p.cache) {
		p.cache, p.chead = p.cache[:0], 0
	} else if p.chead > 4096 && p.chead*2 > len(p.cache) {
		n := copy(p.cache, p.cache[p.chead:])
		clear(p.cache[n:])
		p.cache, p.chead = p.cache[:n], 0
	}
	return batch, raws
}

// readSpool reads a batch from disk (after a restart, or when the memory
// cache overflowed).
func (p *Publisher) readSpool(rd **spool.Reader, batch []eventlog.Event, raws [][]byte, nextSeq uint64) ([]eventlog.Event, [][]byte, error) {
	sp := p.opt.Spool
	if sp == nil || sp.Next() <= nextSeq {
		return batch, raws, nil
	}
	if *rd == nil || (*rd).Seq() != nextSeq {
		if *rd != nil {
			(*rd).Close()
		}
		*rd = sp.NewReader(nextSeq)
	}
	for len(batch) < p.opt.MaxBatch {
		_, rec, err := (*rd).Next()
		if err != nil {
			if len(batch) > 0 {
				break
			}
			if errors.Is(err, io.EOF) {
				return batch, raws, nil
			}
			return batch, raws, err
		}
		var ev eventlog.Event
		if err := eventlog.DecodeEvent(rec, &ev); err != nil {
			return batch, raws, fmt.Errorf("spooled audit event: %w", err)
		}
		batch = append(batch, ev)
		raws = append(raws, rec) // the record is the stored JSON
	}
	return batch, raws, nil
}

// run drains the queue to the stream until the publisher stops: the next
// batch (from memory, else from the spool, else it waits for events),
// stored with retries, then acknowledged.
func (p *Publisher) run() {
	defer close(p.done)
	d := p.newDrainer()
	defer d.close()
	for {
		if !d.fill() || !d.store() {
			return
		}
		d.acknowledge()
	}
}

// drainer is run's state: the next sequence to store, the batch and what
// it reuses from one batch to the next.
type drainer struct {
	p       *Publisher
	base    context.Context // cancelled when the publisher stops
	cancel  context.CancelFunc
	rd      *spool.Reader
	nextSeq uint64
	backoff time.Duration
	lingerT *time.Timer
	tctx    timeoutCtx
	batch   []eventlog.Event
	raws    [][]byte // each event's stored JSON
}

func (p *Publisher) newDrainer() *drainer {
	base, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-base.Done():
		}
	}()
	p.mu.Lock()
	next := p.acked + 1
	p.mu.Unlock()
	return &drainer{p: p, base: base, cancel: cancel, nextSeq: next}
}

func (d *drainer) close() {
	d.tctx.disarm()
	if d.rd != nil {
		d.rd.Close()
	}
	d.cancel()
}

// fill gets the next batch: from the memory cache, else from the spool,
// else it waits for events. It returns false when the publisher stops.
func (d *drainer) fill() bool {
	for {
		d.batch, d.raws = d.p.take(d.batch[:0], d.raws[:0], d.nextSeq)
		if len(d.batch) == 0 {
			var err error
			d.batch, d.raws, err = d.p.readSpool(&d.rd, d.batch, d.raws, d.nextSeq)
			if err != nil {
				d.p.opt.Logger.Error().Err(err).Msg("read audit spool")
				if !d.p.sleep(time.Second) {
					return false
				}
				continue
			}
		}
		if len(d.batch) > 0 {
			return true
		}
		if !d.waitForEvents() {
			return false
		}
	}
}

// waitForEvents waits for enqueue's signal, then lingers for more (see
// linger). It returns false when the publisher stops.
func (d *drainer) waitForEvents() bool {
	select {
	case <-d.p.wake:
		return d.p.linger(&d.lingerT)
	case <-d.p.stop:
		return false
	}
}

// store appends the batch, retrying with backoff until it is stored; each
// failure fails the waiting PublishSyncs (their events stay pending). It
// returns false when the publisher stops first.
func (d *drainer) store() bool {
	for {
		err := d.appendOnce()
		if err == nil {
			d.backoff = 0
			return true
		}
		d.p.failWaiters(fmt.Errorf("append audit events: %w", err))
		d.p.opt.Logger.Warn().Err(err).Int("events", len(d.batch)).Msg("audit append failed; retrying")
		d.backoff = min(max(d.backoff*2, d.p.opt.RetryMin), d.p.opt.RetryMax)
		if !d.p.sleep(d.backoff) {
			return false
		}
	}
}

// appendOnce appends the batch within AppendTimeout (a timeout reads as
// eventlog.ErrUnavailable).
func (d *drainer) appendOnce() error {
	ctx := d.tctx.arm(d.base, d.p.opt.AppendTimeout)
	err := d.p.stream.AppendEncoded(ctx, d.batch, d.raws)
	if d.tctx.disarm() && err != nil {
		err = fmt.Errorf("%w (%w after %s)", err, eventlog.ErrUnavailable, d.p.opt.AppendTimeout)
	}
	return err
}

// acknowledge records the stored batch: the sequence moves, the
// PublishSyncs it completes return, and the spool is told.
func (d *drainer) acknowledge() {
	last := d.nextSeq + uint64(len(d.batch)) - 1
	clear(d.batch)
	clear(d.raws)
	d.nextSeq = last + 1
	d.p.stored(last)
	// The spool's ack is bookkeeping (the events are stored): written
	// after the waiters are woken, off their path.
	if sp := d.p.opt.Spool; sp != nil {
		if err := sp.Ack(last); err != nil {
			d.p.opt.Logger.Error().Err(err).Msg("ack audit spool")
		}
	}
}

// stored marks every event up to last stored and wakes the PublishSyncs
// waiting for no later event.
func (p *Publisher) stored(last uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acked = last
	n := 0
	for _, w := range p.waiters {
		if w.last <= last {
			w.done <- nil
			continue
		}
		p.waiters[n] = w
		n++
	}
	clear(p.waiters[n:])
	p.waiters = p.waiters[:n]
}

// linger waits up to Linger for more events unless a PublishSync is
// waiting, the queue already holds a full batch, or the publisher is
// closing. It returns false when stopped.
func (p *Publisher) linger(t **time.Timer) bool {
	if p.opt.Linger < 0 {
		return true
	}
	p.mu.Lock()
	select { // a stale signal (enqueue sends it under mu): drop it
	case <-p.syncNow:
	default:
	}
	skip := len(p.waiters) > 0 || p.closed || len(p.cache)-p.chead >= p.opt.MaxBatch
	p.mu.Unlock()
	if skip {
		return true
	}
	if *t == nil {
		*t = time.NewTimer(p.opt.Linger)
	} else {
		(*t).Reset(p.opt.Linger)
	}
	select {
	case <-(*t).C:
	case <-p.syncNow:
		(*t).Stop()
	case <-p.stop:
		return false
	}
	return true
}

func (p *Publisher) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

// failWaiters fails every waiting PublishSync (their events stay pending).
func (p *Publisher) failWaiters(err error) {
	p.mu.Lock()
	for _, w := range p.waiters {
		w.done <- err
	}
	clear(p.waiters)
	p.waiters = p.waiters[:0]
	p.mu.Unlock()
}
