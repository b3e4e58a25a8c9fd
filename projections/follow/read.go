package follow

import (
	"context"
	"fmt"

	"github.com/tollgate-db/tollgate/projections"
)

// View calls fn with the current state under a read lock. fn must not keep
// or change it.
func (f *Follower) View(fn func(st *projections.State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.state)
}

// Ready is closed once the follower has applied the stream's last sequence
// as it was when following began (at once for an empty stream).
func (f *Follower) Ready() <-chan struct{} { return f.ready }

// WaitSeq blocks until the state has applied seq (read your writes), ctx
// ends (its error), or the follower stopped before that (why, wrapped:
// "follow control stream: …").
func (f *Follower) WaitSeq(ctx context.Context, seq uint64) error {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.applied.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.RLock()
	defer f.mu.RUnlock()
	for f.state.LastSeq < seq {
		if f.failed != nil {
			return fmt.Errorf("follow control stream: %w", f.failed)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		f.applied.Wait()
	}
	return nil
}

// Sync waits until the state has applied everything in the stream now.
func (f *Follower) Sync(ctx context.Context) error {
	last, err := f.stream.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("read control stream: %w", err)
	}
	return f.WaitSeq(ctx, last)
}
