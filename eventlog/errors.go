package eventlog

import "errors"

var (
	// ErrConflict means an ExpectLastSubjectSeq expectation did not hold:
	// someone else changed the same entity first. Re-read and retry.
	ErrConflict = errors.New("conflict: the entity changed since it was read; retry")
	// ErrTooLarge means an event exceeds the stream's size bound.
	ErrTooLarge = errors.New("event exceeds the maximum event size")
	// ErrUnavailable means the log cannot be reached right now.
	ErrUnavailable = errors.New("event log unavailable")
	// ErrClosed means the log was closed.
	ErrClosed = errors.New("event log closed")
)
