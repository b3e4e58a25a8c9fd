package projections

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidTransition means an event does not fit the state it is
	// applied to: a user.updated for an unknown user, a second ca.created
	// for the same CA, a rotation phase out of order. Apply leaves the
	// entity unchanged and still advances LastSeq, LastTime and SubjectSeq,
	// so every replay of the same log reaches the same state.
	ErrInvalidTransition = errors.New("invalid state transition")
	// ErrBadEvent means an event's data could not be decoded.
	ErrBadEvent = errors.New("undecodable event")
	// ErrSnapshotFormat means a snapshot has an unknown format or is damaged.
	ErrSnapshotFormat = errors.New("unknown or damaged snapshot")
)

// ApplyError says which event could not be applied and why. It unwraps to
// ErrInvalidTransition, ErrBadEvent or a schemas error (unknown type or
// version).
type ApplyError struct {
	Seq    uint64
	Type   string
	Reason string
	Err    error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("apply %s at seq %d: %s", e.Type, e.Seq, e.Reason)
}

// Unwrap returns the cause.
func (e *ApplyError) Unwrap() error { return e.Err }
