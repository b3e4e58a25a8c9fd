package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Read calls fn for each matching record up to the last one present when
// Read was called (see eventlog.Stream). FromTime and ToTime compare with
// the time JetStream stored each message.
func (s *Stream) Read(ctx context.Context, q eventlog.Query, fn func(eventlog.Record) error) error {
	upper, err := s.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	if q.ToSeq > 0 && q.ToSeq < upper {
		upper = q.ToSeq
	}
	if upper == 0 || q.FromSeq > upper {
		return nil
	}
	return s.consume(ctx, q, upper, false, fn)
}

// Follow is Read followed by live delivery until ctx ends (returning its
// error), fn fails, or q's ToSeq, ToTime or Limit is reached (returning nil).
func (s *Stream) Follow(ctx context.Context, q eventlog.Query, fn func(eventlog.Record) error) error {
	return s.consume(ctx, q, q.ToSeq, true, fn)
}

// errRestart asks consume to make a new consumer from the next sequence.
var errRestart = errors.New("restart consumer")

// maxRestarts bounds how often one Read recreates its consumer in a row
// without progress before giving up, and maxBehind how often in all for a
// consumer that ended behind the leader (errBehind).
const (
	maxRestarts = 5
	maxBehind   = 30
)

// consume delivers matching records through ephemeral, in-memory, no-ack
// pull consumers, recreated from the next sequence whenever a gap in the
// consumer sequence or a lost consumer shows (as an ordered consumer does).
// upper bounds the stream sequences delivered (0: none).
func (s *Stream) consume(ctx context.Context, q eventlog.Query, upper uint64, follow bool, fn func(eventlog.Record) error) error {
	c := &cursor{q: q, upper: upper, follow: follow, fn: fn, next: max(q.FromSeq, 1)}
	if directEligible(q) {
		if done, err := s.readDirect(ctx, c); done {
			return err
		}
	}
	restarts, behind := 0, 0
	for {
		progress := c.n
		done, err := s.consumeOnce(ctx, c)
		if done {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := 0 // tenths of a second before the next consumer
		switch {
		case errors.Is(err, errBehind):
			// A replica catching up: a new consumer (perhaps elsewhere)
			// goes on from what was delivered.
			if behind++; behind > maxBehind {
				return fmt.Errorf("read %s: %w: %w", s.name, eventlog.ErrUnavailable, err)
			}
			wait = min(behind, 10)
		case c.n == progress:
			if restarts++; !follow && restarts > maxRestarts {
				return fmt.Errorf("read %s: %w", s.name, mapErr(err))
			}
			wait = min(restarts, 10)
		default:
			restarts = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(wait) * 100 * time.Millisecond):
		}
	}
}

type cursor struct {
	q       eventlog.Query
	upper   uint64
	follow  bool
	fn      func(eventlog.Record) error
	next    uint64 // next stream sequence to ask for
	n       int    // records delivered
	started bool   // a consumer was created once (FromTime applies only then)
}

// consumeOnce runs one consumer. done reports that consume must return err;
// otherwise err says why the consumer must be recreated.
func (s *Stream) consumeOnce(ctx context.Context, c *cursor) (done bool, err error) {
	q := c.q
	cc := jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		InactiveThreshold: 5 * time.Minute,
		FilterSubjects:    q.Subjects,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       c.next,
	}
	if !c.started && !q.FromTime.IsZero() && q.FromSeq == 0 {
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartTimePolicy, 0
		t := q.FromTime
		cc.OptStartTime = &t
	}
	cons, err := s.createConsumer(ctx, cc)
	if err != nil {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		return false, err
	}
	c.started = true
	name := cons.CachedInfo().Name
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.js.DeleteConsumer(dctx, s.name, name)
	}()
	if !c.follow && cons.CachedInfo().NumPending == 0 {
		return s.drained(ctx, c)
	}
	f := &fetcher{
		batches: make(chan []delivery, pipeDepth),
		free:    make(chan []delivery, pipeDepth+2),
		errs:    make(chan error, 1),
		quit:    make(chan struct{}),
	}
	cctx, err := cons.Consume(f.handle, jetstream.PullMaxMessages(ReadBatch), jetstream.ConsumeErrHandler(f.handleErr))
	if err != nil {
		return false, err
	}
	defer func() {
		close(f.quit)
		cctx.Stop()
	}()

	var dseq uint64
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case err := <-f.errs:
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return false, err
		case batch := <-f.batches:
			for i := range batch {
				if done, err := s.deliver(c, &batch[i], &dseq); errors.Is(err, errDrained) {
					return s.drained(ctx, c)
				} else if done || err != nil {
					return done, err
				}
			}
			select {
			case f.free <- batch[:0]:
			default:
			}
		}
	}
}

// createTimeout bounds one consumer creation. On a cluster, a request sent
// while the meta leader changes is never answered; consume retries after
// this instead of waiting out the caller's ctx.
const createTimeout = 5 * time.Second

func (s *Stream) createConsumer(ctx context.Context, cc jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	return s.js.CreateConsumer(cctx, s.name, cc)
}

// pipeDepth is how many decoded batches the fetcher may hold ahead of fn,
// and pipeBatch the records of one batch.
const (
	pipeDepth = 8
	pipeBatch = 256
)

// delivery is one message as the fetcher decoded it.
type delivery struct {
	md        ackMeta
	rec       eventlog.Record
	decodeErr error
	badReply  string
}

// fetcher decodes each message (reply subject and envelope) on the
// consumer's delivery goroutine and hands batches of them to consumeOnce,
// so that decoding overlaps fn. A batch is sent when full or when the
// server says nothing more is pending. Once quit is closed it drops
// everything.
type fetcher struct {
	batches chan []delivery
	free    chan []delivery
	errs    chan error
	quit    chan struct{}
	batch   []delivery // owned by the delivery goroutine
	stopped bool
}

func (f *fetcher) handle(msg jetstream.Msg) {
	if f.stopped {
		return
	}
	if f.batch == nil {
		select {
		case f.batch = <-f.free:
		default:
			f.batch = make([]delivery, 0, pipeBatch)
		}
	}
	f.batch = append(f.batch, delivery{})
	d := &f.batch[len(f.batch)-1]
	md, ok := parseAckReply(msg.Reply())
	if ok {
		d.md = md
		d.rec.StreamSeq = md.sseq
		// The NATS client copies every message into a buffer of its own
		// (nats.go's processMsg) that nobody writes again: the record
		// may alias it.
		d.decodeErr = eventlog.DecodeEventOwned(msg.Data(), &d.rec.Event)
	} else {
		d.badReply = msg.Reply()
	}
	if !ok || len(f.batch) == cap(f.batch) || md.pending == 0 {
		select {
		case f.batches <- f.batch:
		case <-f.quit:
			f.stopped = true
		}
		f.batch = nil
	}
}

// handleErr passes the first error on; consumeOnce then recreates the
// consumer.
func (f *fetcher) handleErr(_ jetstream.ConsumeContext, err error) {
	select {
	case f.errs <- err:
	default:
	}
}

// deliver handles one delivery of consumeOnce; done and err are as there,
// and (false, nil) means go on.
func (s *Stream) deliver(c *cursor, d *delivery, dseq *uint64) (done bool, err error) {
	q := c.q
	if d.badReply != "" {
		return true, fmt.Errorf("read %s: unexpected reply subject %q", s.name, d.badReply)
	}
	md := d.md
	if md.dseq != *dseq+1 {
		return false, errRestart
	}
	*dseq = md.dseq
	if c.upper > 0 && md.sseq > c.upper {
		return true, nil
	}
	if !q.ToTime.IsZero() && md.ts > q.ToTime.UnixNano() {
		return true, nil
	}
	c.next = md.sseq + 1
	if q.FromTime.IsZero() || md.ts >= q.FromTime.UnixNano() {
		if d.decodeErr != nil {
			return true, fmt.Errorf("read %s: decode record %d: %w", s.name, md.sseq, d.decodeErr)
		}
		if err := c.fn(d.rec); err != nil {
			return true, err
		}
		c.n++
		if q.Limit > 0 && c.n >= q.Limit {
			return true, nil
		}
	}
	if c.upper > 0 && md.sseq >= c.upper {
		return true, nil
	}
	if !c.follow && md.pending == 0 {
		return true, errDrained
	}
	return false, nil
}

// errDrained is deliver's word that the consumer counts nothing more
// pending; errBehind asks consume for a new consumer, the drained one
// having counted in a replica's copy behind the leader's.
var (
	errDrained = errors.New("consumer drained")
	errBehind  = errors.New("consumer drained behind the stream's leader")
)

// drained ends a Read whose consumer counts nothing more pending, unless
// the stream is replicated and its leader holds a record the read has not
// delivered (see leaderHolds).
func (s *Stream) drained(ctx context.Context, c *cursor) (done bool, err error) {
	if !s.replicated {
		return true, nil
	}
	held, err := s.holds(ctx, c)
	if err != nil || !held {
		return true, err
	}
	s.behindRestarts.Add(1)
	return false, errBehind
}
