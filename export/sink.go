package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Item is one event on its way to a sink: the event as stored and its
// formatted document (one JSON object, no trailing newline).
type Item struct {
	// Stream is the stream the event came from (eventlog.AuditStream or
	// eventlog.ControlStream).
	Stream string
	// StreamSeq is the event's stream sequence.
	StreamSeq uint64
	Event     eventlog.Event
	Doc       []byte
}

// Sink is one export destination. Write delivers a batch and returns nil
// only when the destination accepted every item. A sink that accepted some
// items returns a *PartialError naming the failed ones; a sink asking to be
// retried later returns a *RetryAfterError. Any other error retries the
// whole batch. Write is never called concurrently.
type Sink interface {
	Write(ctx context.Context, batch []Item) error
	Close() error
}

// ErrDestination marks an error answered by the destination itself.
var ErrDestination = errors.New("destination refused the batch")

// PartialError reports that only some items of a batch were accepted.
// Failed holds the indices (into the batch) of the items to retry.
type PartialError struct {
	Failed []int
	Err    error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d items failed: %v", len(e.Failed), e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// RetryAfterError asks the subscriber to wait at least After before the
// next attempt (HTTP 429/503 with Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }
