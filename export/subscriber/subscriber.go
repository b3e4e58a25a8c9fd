package subscriber

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/format"
)

// Subscriber runs one sink: one durable consumer per configured stream.
type Subscriber struct {
	cfg   export.SinkConfig
	js    jetstream.JetStream
	sink  export.Sink
	fmt   format.Formatter
	log   zerolog.Logger
	m     *metrics
	opts  Options
	types map[string]bool
	wmu   sync.Mutex // serializes sink writes across streams
	loops []*loop
}

// New validates cfg and opts and prepares a subscriber writing to sink.
// Run starts it.
func New(js jetstream.JetStream, cfg export.SinkConfig, sink export.Sink, opts Options) (*Subscriber, error) {
	cfg, err := validated(cfg)
	if err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	f, err := format.New(cfg.Format, opts.Text)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register export metrics: %w", err)
	}
	s := &Subscriber{cfg: cfg, js: js, sink: sink, fmt: f, m: m, opts: opts,
		log: opts.Logger.With().Str("sink", cfg.Name).Logger()}
	if len(cfg.Filter.Types) > 0 {
		s.types = map[string]bool{}
		for _, t := range cfg.Filter.Types {
			s.types[t] = true
		}
	}
	for _, st := range cfg.Streams {
		name := opts.StreamNames[st]
		if name == "" {
			name = eventlog.AuditStream
			if st == export.StreamControl {
				name = eventlog.ControlStream
			}
		}
		prefix := eventlog.AuditPrefix + "."
		if st == export.StreamControl {
			prefix = eventlog.ControlPrefix + "."
		}
		var subjects []string
		for _, subj := range cfg.Filter.Subjects {
			if strings.HasPrefix(subj, prefix) {
				subjects = append(subjects, subj)
			}
		}
		s.loops = append(s.loops, &loop{s: s, stream: name, subjects: subjects})
	}
	return s, nil
}

// ConsumerName is the durable consumer name of a sink.
func ConsumerName(sink string) string { return "export-" + sink }

// Run consumes until ctx ends, then closes the sink. It returns nil when
// ctx ended, or the first setup error.
func (s *Subscriber) Run(ctx context.Context) error {
	defer func() {
		if err := s.sink.Close(); err != nil {
			s.log.Warn().Err(err).Msg("close export sink")
		}
	}()
	for _, l := range s.loops {
		if err := l.setup(ctx); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	for _, l := range s.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// loop is one durable consumer of one stream.
type loop struct {
	s        *Subscriber
	stream   string
	subjects []string
	cons     jetstream.Consumer       // set by openConsumer under mu
	cc       jetstream.ConsumerConfig // what cons was created with
	infoMu   sync.Mutex               // serializes consumer Info calls
	// nextDelivery is the consumer sequence of the delivery expected next:
	// one that skips it means messages were delivered that this loop did
	// not get (see deliver).
	nextDelivery uint64
	// arenaHint is the largest batch of documents so far, the size a
	// batch's buffer starts at.
	arenaHint int

	mu          sync.Mutex
	lag         uint64
	exported    uint64
	lastErr     string
	lastErrAt   time.Time
	lastSuccess time.Time
	retrying    bool
}

func (l *loop) setup(ctx context.Context) error {
	cc := jetstream.ConsumerConfig{
		Durable:       ConsumerName(l.s.cfg.Name),
		Description:   "tollgate export sink " + l.s.cfg.Name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       l.s.opts.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: max(4*l.s.cfg.Batch.MaxEvents, 1000),
		MaxWaiting:    16,
	}
	switch len(l.subjects) {
	case 0:
	case 1:
		cc.FilterSubject = l.subjects[0]
	default:
		cc.FilterSubjects = l.subjects
	}
	if err := l.openConsumer(ctx, cc, false); err != nil {
		return fmt.Errorf("export sink %s: consumer on %s: %w", l.s.cfg.Name, l.stream, err)
	}
	l.refreshLag(ctx)
	return nil
}

// run fetches and delivers batches until ctx ends. While it delivers a
// full batch the next one is already on its way (the consumer delivers in
// parallel with the sink's write); a prefetched batch whose predecessor
// did not go through at once is dropped unread, and deliver's gap check
// then has its messages delivered again from the ack floor.
func (l *loop) run(ctx context.Context) {
	var next jetstream.MessageBatch
	for ctx.Err() == nil {
		fb := next
		next = nil
		if fb == nil {
			var err error
			if fb, err = l.fetch(); err != nil {
				l.fail(err)
				sleep(ctx, l.s.cfg.Retry.Initial)
				continue
			}
		}
		msgs, ok := l.collect(ctx, fb)
		if !ok {
			continue
		}
		if len(msgs) == l.s.cfg.Batch.MaxEvents {
			next, _ = l.fetch() // on an error, fetched again next round
		}
		if !l.deliver(ctx, msgs) {
			next = nil
		}
	}
}

func (l *loop) fetch() (jetstream.MessageBatch, error) {
	return l.cons.Fetch(l.s.cfg.Batch.MaxEvents, jetstream.FetchMaxWait(max(l.s.cfg.Batch.MaxWait, 100*time.Millisecond)))
}

// collect waits for the messages of fb. Not ok when there are none (the
// lag refreshed) or the fetch failed (counted, after a pause).
func (l *loop) collect(ctx context.Context, fb jetstream.MessageBatch) (msgs []jetstream.Msg, ok bool) {
	msgs = make([]jetstream.Msg, 0, l.s.cfg.Batch.MaxEvents)
	for m := range fb.Messages() {
		msgs = append(msgs, m)
	}
	if err := fb.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && len(msgs) == 0 {
		if ctx.Err() == nil {
			l.fail(err)
			sleep(ctx, l.s.cfg.Retry.Initial)
		}
		return nil, false
	}
	if len(msgs) == 0 {
		l.refreshLag(ctx)
		return nil, false
	}
	return msgs, true
}

func (l *loop) fail(err error) {
	l.s.m.failures.WithLabelValues(l.s.cfg.Name, l.stream).Inc()
	l.mu.Lock()
	l.lastErr, l.lastErrAt = err.Error(), time.Now()
	l.mu.Unlock()
}

func (l *loop) setRetrying(b bool) {
	l.mu.Lock()
	l.retrying = b
	l.mu.Unlock()
}

// refreshLag asks the server for the consumer's pending and unacked counts.
func (l *loop) refreshLag(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	l.mu.Lock()
	cons := l.cons
	l.mu.Unlock()
	if cons == nil {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l.infoMu.Lock()
	info, err := cons.Info(ictx)
	l.infoMu.Unlock()
	if err != nil {
		return
	}
	lag := info.NumPending + uint64(info.NumAckPending)
	l.mu.Lock()
	l.lag = lag
	l.mu.Unlock()
	l.s.m.lag.WithLabelValues(l.s.cfg.Name, l.stream).Set(float64(lag))
}

// backoff is the exponential delay before attempt+1, with ±20% jitter.
func backoff(r export.Retry, attempt int) time.Duration {
	d := r.Initial
	for i := 0; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	j := time.Duration(rand.Int64N(int64(d)/5 + 1))
	return d - d/10 + j
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
