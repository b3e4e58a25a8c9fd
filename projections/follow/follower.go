package follow

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
)

// Stream is what a Follower reads of the control stream: its last
// sequence (for Ready and Sync) and its records, stored and live.
type Stream interface {
	LastSeq(ctx context.Context) (uint64, error)
	eventlog.Follower
}

// Options choose the follower's policy on errors and its hook.
type Options struct {
	// Retry makes the follower outlast a Follow error: it is logged and
	// following resumes from the last applied sequence after a backoff
	// (100ms, doubling up to 5s, back to 100ms once records come), the last
	// state served meanwhile and WaitSeq waiting on. Without Retry the first
	// Follow error stops the follower for good and WaitSeq returns it, so
	// that a caller waiting for its own write fails at once instead of
	// waiting on a stream that may not come back (control's API).
	Retry bool
	// OnApply, when set, is called with each new record once it is folded
	// in (also one that could not be applied), in stream order, outside the
	// lock: it may call View.
	OnApply func(rec eventlog.Record)
	// Logger receives the events that could not be applied (logged and
	// skipped: the sequence still moves) and the Follow errors.
	Logger zerolog.Logger
}

// Backoff between follow attempts with Options.Retry.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// Follower folds a control stream into a projections.State. It is safe for
// concurrent use; Run it once.
type Follower struct {
	stream Stream
	opt    Options

	mu      sync.RWMutex
	applied *sync.Cond // on mu's read side: a record was applied, or Run ended
	state   *projections.State
	failed  error // why Run ended; nil while it runs

	ready     chan struct{}
	readyOnce sync.Once
}

// New returns a Follower of stream starting from the empty state; call Run.
func New(stream Stream, opt Options) *Follower {
	f := &Follower{stream: stream, opt: opt, state: projections.New(), ready: make(chan struct{})}
	f.applied = sync.NewCond(f.mu.RLocker())
	return f
}

// Run follows the stream until ctx ends or, without Options.Retry, until
// Follow fails. Then the follower is stopped: WaitSeq for a sequence not
// applied yet returns why (eventlog.ErrClosed once ctx ended).
func (f *Follower) Run(ctx context.Context) {
	err := f.follow(ctx)
	if err == nil || ctx.Err() != nil {
		err = eventlog.ErrClosed
	} else {
		f.opt.Logger.Error().Err(err).Msg("following the control stream stopped")
	}
	f.mu.Lock()
	f.failed = err
	f.applied.Broadcast()
	f.mu.Unlock()
}

// follow runs follow attempts, as the policy says, until one ends for good.
func (f *Follower) follow(ctx context.Context) error {
	backoff := retryMin
	for {
		err := f.followOnce(ctx, &backoff)
		if !f.opt.Retry || ctx.Err() != nil {
			return err
		}
		f.opt.Logger.Warn().Err(err).Msg("following the control stream stopped; serving from the last state and retrying")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, retryMax)
	}
}

// followOnce follows from the record after the last applied one, marking
// the follower ready once it reached the stream's last sequence as it was
// when the attempt began. Each record resets the backoff.
func (f *Follower) followOnce(ctx context.Context, backoff *time.Duration) error {
	last, err := f.stream.LastSeq(ctx)
	if err == nil && last == 0 {
		f.markReady()
	}
	f.mu.RLock()
	from := f.state.LastSeq + 1
	f.mu.RUnlock()
	return f.stream.Follow(ctx, eventlog.Query{FromSeq: from}, func(rec eventlog.Record) error {
		f.apply(rec)
		if rec.StreamSeq >= last {
			f.markReady()
		}
		*backoff = retryMin
		return nil
	})
}

// apply folds rec into the state, unless it was applied already, and then
// calls the hook. A bad event is logged and skipped; the sequence still
// moves so that waiters are not stuck.
func (f *Follower) apply(rec eventlog.Record) {
	f.mu.Lock()
	if rec.StreamSeq <= f.state.LastSeq {
		f.mu.Unlock()
		return
	}
	if err := f.state.Apply(rec); err != nil {
		f.opt.Logger.Error().Err(err).Uint64("seq", rec.StreamSeq).Str("type", rec.Event.Type).Msg("apply control event")
		f.state.LastSeq = rec.StreamSeq
	}
	f.applied.Broadcast()
	f.mu.Unlock()
	if f.opt.OnApply != nil {
		f.opt.OnApply(rec)
	}
}

func (f *Follower) markReady() { f.readyOnce.Do(func() { close(f.ready) }) }
