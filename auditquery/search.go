package auditquery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
)

// DefaultLimit bounds a Search without a Limit.
const DefaultLimit = 1000

// ErrNoSession means no event of the session exists.
var ErrNoSession = errors.New("no such session")

// Filter selects audit events. Empty fields match anything. From and To
// bound the stored time, inclusive.
type Filter struct {
	User    string
	DB      string
	Session string
	Types   []string
	From    time.Time
	To      time.Time
	// Limit caps the answer (default DefaultLimit).
	Limit int
}

// Subjects returns the server-side subject filters of f: one per type, or
// one matching every type.
func (f Filter) Subjects() []string {
	if len(f.Types) == 0 {
		return []string{eventlog.AuditFilter(f.DB, f.User, f.Session, "")}
	}
	out := make([]string, 0, len(f.Types))
	seen := map[string]bool{}
	for _, t := range f.Types {
		s := eventlog.AuditFilter(f.DB, f.User, f.Session, t)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Search returns the audit records of s matching f, in stream order.
func Search(ctx context.Context, s eventlog.Stream, f Filter) ([]eventlog.Record, error) {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, fmt.Errorf("search: the end %s is before the start %s", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	q := eventlog.Query{Subjects: f.Subjects(), FromTime: f.From, ToTime: f.To, Limit: limit}
	var out []eventlog.Record
	err := s.Read(ctx, q, func(r eventlog.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("search audit: %w", err)
	}
	return out, nil
}
