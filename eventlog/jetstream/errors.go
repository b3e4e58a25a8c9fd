package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/eventlog"
)

// JetStream API error codes mapped to eventlog errors.
const (
	codeWrongLastSequence         = 10071
	codeWrongLastSequenceConstant = 10164
	codeMessageExceedsMaximum     = 10054
	codeStoreFailed               = 10077
)

// mapErr wraps err with the eventlog sentinel it means, keeping err in the
// chain: errors.Is works for both.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var jerr jetstream.JetStreamError
	if errors.As(err, &jerr) && jerr.APIError() != nil {
		switch jerr.APIError().ErrorCode {
		case codeWrongLastSequence, codeWrongLastSequenceConstant:
			return fmt.Errorf("%w: %w", eventlog.ErrConflict, err)
		case codeMessageExceedsMaximum:
			return fmt.Errorf("%w: %w", eventlog.ErrTooLarge, err)
		}
	}
	var aerr *jetstream.APIError
	if errors.As(err, &aerr) {
		if aerr.ErrorCode == codeStoreFailed && strings.Contains(aerr.Description, "maximum bytes") {
			return fmt.Errorf("%w: %w", ErrLocalFull, err)
		}
		switch aerr.ErrorCode {
		case codeWrongLastSequence, codeWrongLastSequenceConstant:
			return fmt.Errorf("%w: %w", eventlog.ErrConflict, err)
		case codeMessageExceedsMaximum:
			return fmt.Errorf("%w: %w", eventlog.ErrTooLarge, err)
		}
	}
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", eventlog.ErrTooLarge, err)
	case errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", eventlog.ErrClosed, err)
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, jetstream.ErrNoHeartbeat):
		return fmt.Errorf("%w: %w", eventlog.ErrUnavailable, err)
	}
	return err
}
