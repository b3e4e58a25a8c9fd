package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid marks a configuration that cannot run. Every error from Parse
// and Validate wraps it.
var ErrInvalid = errors.New("invalid agent configuration")

// FieldError is one problem with one field.
type FieldError struct {
	// Path is the field's path, e.g. db_service.databases[0].protocol.
	Path string
	// Line is the field's line in the YAML (0 when unknown).
	Line int
	// Msg says what is wrong and what to do.
	Msg string

	segs []any // string keys and int indexes, for the line lookup
}

// Error renders `path (line N): msg`.
func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// path is a field path under construction.
type path []any

func (p path) key(k string) path {
	out := make(path, len(p), len(p)+1)
	copy(out, p)
	return append(out, k)
}

func (p path) index(i int) path {
	out := make(path, len(p), len(p)+1)
	copy(out, p)
	return append(out, i)
}

func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		switch v := s.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

func (p path) errorf(format string, args ...any) *FieldError {
	return &FieldError{Path: p.String(), Msg: fmt.Sprintf(format, args...), segs: p}
}
