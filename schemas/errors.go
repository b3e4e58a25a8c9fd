package schemas

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid means an event does not match its schema.
	ErrInvalid = errors.New("event does not match its schema")
	// ErrUnknownType means an event type is not in the catalogue.
	ErrUnknownType = errors.New("unknown event type")
	// ErrUnknownVersion means an event's version has no schema (or no
	// upcaster path) in this binary: typically an event written by a newer
	// Tollgate. Upgrade the reader.
	ErrUnknownVersion = errors.New("unknown event version")
)

// ValidationError says why an event was refused: which event, which field
// (a JSON pointer into the envelope, e.g. "/data/name") and the most
// specific reason. Its Error is one line:
//
//	user.created v1: /data/name: missing property 'name'
//
// It unwraps to ErrInvalid, ErrUnknownType or ErrUnknownVersion.
type ValidationError struct {
	Type    string
	Version int
	Field   string
	Reason  string
	// Err is the sentinel the error unwraps to.
	Err error
}

func (e *ValidationError) Error() string {
	typ := e.Type
	if typ == "" {
		typ = "(no type)"
	}
	if e.Field == "" {
		return fmt.Sprintf("%s v%d: %s", typ, e.Version, e.Reason)
	}
	return fmt.Sprintf("%s v%d: %s: %s", typ, e.Version, e.Field, e.Reason)
}

// Unwrap returns the sentinel: ErrInvalid, ErrUnknownType or
// ErrUnknownVersion.
func (e *ValidationError) Unwrap() error {
	if e.Err == nil {
		return ErrInvalid
	}
	return e.Err
}
