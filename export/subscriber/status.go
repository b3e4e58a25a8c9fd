package subscriber

import (
	"context"
	"time"
)

// Status is a sink's export state, for `tollctl export status`.
type Status struct {
	Sink    string         `json:"sink"`
	Type    string         `json:"type"`
	Format  string         `json:"format"`
	Streams []StreamStatus `json:"streams"`
}

// StreamStatus is one durable consumer's state.
type StreamStatus struct {
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	// Lag is the events not yet accepted by the sink: pending plus
	// delivered-but-unacked.
	Lag uint64 `json:"lag"`
	// Exported counts events accepted since this process started.
	Exported    uint64    `json:"exported"`
	Retrying    bool      `json:"retrying"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitempty"`
	LastSuccess time.Time `json:"last_success,omitempty"`
}

// Status returns the sink's state, refreshing each consumer's lag from
// the server when it answers.
func (s *Subscriber) Status(ctx context.Context) Status {
	st := Status{Sink: s.cfg.Name, Type: s.cfg.Type, Format: s.cfg.Format}
	for _, l := range s.loops {
		l.refreshLag(ctx)
		l.mu.Lock()
		st.Streams = append(st.Streams, StreamStatus{Stream: l.stream, Consumer: ConsumerName(s.cfg.Name), Lag: l.lag,
			Exported: l.exported, Retrying: l.retrying, LastError: l.lastErr, LastErrorAt: l.lastErrAt, LastSuccess: l.lastSuccess})
		l.mu.Unlock()
	}
	return st
}
