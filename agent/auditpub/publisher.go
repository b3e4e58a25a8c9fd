package auditpub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
)

// ErrBacklog means the queue is full (the log has been unreachable for a
// while); the events were not queued.
var ErrBacklog = errors.New("audit publish queue full")

// Chainer links audit events into the source's hash chain (Seq, Prev,
// Hash), in the order given. The Publisher calls it from one goroutine.
type Chainer interface {
	Link(ev *eventlog.Event) error
}

// Options tune a Publisher.
type Options struct {
	// MaxBatch bounds the events of one AppendBatch (default 512).
	MaxBatch int
	// MaxQueue bounds queued events (default 100000).
	MaxQueue int
	// RetryMin and RetryMax bound the backoff after a failed append.
	RetryMin, RetryMax time.Duration
	// AppendTimeout bounds one AppendBatch (default 5s).
	AppendTimeout time.Duration
	Logger        zerolog.Logger
}

type waiter struct {
	done chan error
	last int64 // index (in enqueue order) of the waiter's last event
}

// Publisher is the agent's audit publisher.
type Publisher struct {
	stream  eventlog.Stream
	chainer Chainer
	opt     Options

	mu      sync.Mutex
	wake    chan struct{}
	queue   []eventlog.Event // not yet chained
	waiters []waiter
	queued  int64 // events ever enqueued
	closed  bool

	// Owned by the run goroutine.
	retry  []eventlog.Event // chained, refused by the log, sent first
	stored int64            // events ever stored (or given up on close)

	stop chan struct{}
	done chan struct{}
}

// New starts a Publisher appending to stream (the audit stream). chainer
// may be nil (no chain).
func New(stream eventlog.Stream, chainer Chainer, opt Options) *Publisher {
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
	if opt.AppendTimeout <= 0 {
		opt.AppendTimeout = 5 * time.Second
	}
	p := &Publisher{
		stream: stream, chainer: chainer, opt: opt,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *Publisher) enqueue(evs []eventlog.Event, w *waiter) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return eventlog.ErrClosed
	}
	if int(p.queued-p.storedLoad())+len(evs) > p.opt.MaxQueue {
		return ErrBacklog
	}
	p.queue = append(p.queue, evs...)
	p.queued += int64(len(evs))
	if w != nil {
		w.last = p.queued
		p.waiters = append(p.waiters, *w)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// storedLoad is read under mu; run updates stored under mu too.
func (p *Publisher) storedLoad() int64 { return p.stored }

// PublishSync queues evs and waits until they are stored. On an error
// other than ErrBacklog the events stay queued and will be stored later
// (at least once): the caller must treat the queries as not run.
func (p *Publisher) PublishSync(ctx context.Context, evs []eventlog.Event) error {
	w := waiter{done: make(chan error, 1)}
	if err := p.enqueue(evs, &w); err != nil {
		return err
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PublishAsync queues evs. If the queue is full they are dropped and
// logged (the on-disk spool will take them instead).
func (p *Publisher) PublishAsync(evs []eventlog.Event) {
	if err := p.enqueue(evs, nil); err != nil {
		p.opt.Logger.Error().Err(err).Int("events", len(evs)).Msg("audit events dropped")
	}
}

// Close stops accepting events, tries to store what is queued until ctx
// ends, and stops.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	for {
		p.mu.Lock()
		left := p.queued - p.stored
		p.mu.Unlock()
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			close(p.stop)
			<-p.done
			return fmt.Errorf("close audit publisher with %d events unstored: %w", left, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(p.stop)
	<-p.done
	return nil
}

func (p *Publisher) run() {
	defer close(p.done)
	backoff := time.Duration(0)
	var batch []eventlog.Event
	for {
		if len(p.retry) == 0 {
			p.mu.Lock()
			empty := len(p.queue) == 0
			p.mu.Unlock()
			if empty {
				select {
				case <-p.wake:
				case <-p.stop:
					return
				}
			}
		}
		// Retried events first (already chained), then new ones, chained
		// now in queue order.
		batch = append(batch[:0], p.retry...)
		p.mu.Lock()
		take := min(len(p.queue), max(0, p.opt.MaxBatch-len(batch)))
		fresh := p.queue[:take]
		batch = append(batch, fresh...)
		p.queue = append(p.queue[:0], p.queue[take:]...)
		p.mu.Unlock()
		for i := len(batch) - len(fresh); i < len(batch); i++ {
			if p.chainer != nil {
				if err := p.chainer.Link(&batch[i]); err != nil {
					p.opt.Logger.Error().Err(err).Msg("audit chain link")
				}
			}
		}
		if len(batch) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.opt.AppendTimeout)
		_, err := p.stream.AppendBatch(ctx, batch)
		cancel()
		p.mu.Lock()
		if err != nil {
			p.retry = append(p.retry[:0], batch...)
			// Fail every waiter whose events are queued up to now.
			for _, w := range p.waiters {
				w.done <- fmt.Errorf("append audit events: %w", err)
			}
			p.waiters = p.waiters[:0]
			p.mu.Unlock()
			p.opt.Logger.Warn().Err(err).Int("events", len(batch)).Msg("audit append failed; retrying")
			backoff = min(max(backoff*2, p.opt.RetryMin), p.opt.RetryMax)
			select {
			case <-time.After(backoff):
			case <-p.stop:
				return
			}
			continue
		}
		backoff = 0
		p.retry = p.retry[:0]
		p.stored += int64(len(batch))
		n := 0
		for _, w := range p.waiters {
			if w.last <= p.stored {
				w.done <- nil
				continue
			}
			p.waiters[n] = w
			n++
		}
		p.waiters = p.waiters[:n]
		p.mu.Unlock()
	}
}
