package eventlog

import (
	"context"
	"fmt"
)

// WithValidator returns s with every appended event checked by v first
// (Append, AppendBatch and AppendEncoded, which checks evs: raw is their
// JSON): an invalid event is refused with v's error wrapped ("validate
// event: %w") and nothing of a batch holding one is stored. Every other
// role of s (Reader, Follower, Informer) is s's own.
func WithValidator(s Stream, v Validator) Stream {
	return &validating{Stream: s, v: v}
}

// validating wraps a whole Stream, so that it has every role of the stream
// it wraps: the assertions below fail to compile if a role were lost.
type validating struct {
	Stream
	v Validator
}

var (
	_ Stream          = (*validating)(nil)
	_ Appender        = (*validating)(nil)
	_ EncodedAppender = (*validating)(nil)
	_ Reader          = (*validating)(nil)
	_ Follower        = (*validating)(nil)
	_ Informer        = (*validating)(nil)
)

func (s *validating) Append(ctx context.Context, ev Event, opts ...AppendOption) (uint64, error) {
	if err := s.v.Validate(&ev); err != nil {
		return 0, fmt.Errorf("validate event %s (%s): %w", ev.ID, ev.Type, err)
	}
	return s.Stream.Append(ctx, ev, opts...)
}

func (s *validating) AppendBatch(ctx context.Context, evs []Event) ([]uint64, error) {
	for i := range evs {
		if err := s.v.Validate(&evs[i]); err != nil {
			return nil, fmt.Errorf("validate event %s (%s): %w", evs[i].ID, evs[i].Type, err)
		}
	}
	return s.Stream.AppendBatch(ctx, evs)
}

func (s *validating) AppendEncoded(ctx context.Context, evs []Event, raw [][]byte) error {
	for i := range evs {
		if err := s.v.Validate(&evs[i]); err != nil {
			return fmt.Errorf("validate event %s (%s): %w", evs[i].ID, evs[i].Type, err)
		}
	}
	return s.Stream.AppendEncoded(ctx, evs, raw)
}
