package auditquery

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
)

// DefaultLimit bounds a Search without a Limit.
const DefaultLimit = 1000

// Filter selects audit events. Empty fields match anything. From and To
// bound the stored time, inclusive.
type Filter struct {
	User    string
	DB      string
	Session string
	Types   []string
	From    time.Time
	To      time.Time
	// After, a cursor, skips the records up to this stream sequence: the
	// next page starts after the last record of the previous one.
	After uint64
	// Limit caps the answer (default DefaultLimit).
	Limit int
}

// Result is one page of a Search.
type Result struct {
	Records []eventlog.Record
	// More is set when further records match after the last one: search
	// again with After = Cursor() for the next page.
	More bool
}

// Cursor is where the next page starts (Filter.After): the stream
// sequence of the last record, or 0 when there is no next page.
func (r Result) Cursor() uint64 {
	if !r.More || len(r.Records) == 0 {
		return 0
	}
	return r.Records[len(r.Records)-1].StreamSeq
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

// Search returns the first f.Limit audit records of s matching f after
// f.After, in stream order, and whether more match.
func Search(ctx context.Context, s eventlog.Reader, f Filter) (Result, error) {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return Result{}, fmt.Errorf("search: the end %s is before the start %s", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	// One record past the page says whether there is a next one.
	q := eventlog.Query{Subjects: f.Subjects(), FromSeq: f.After + 1, FromTime: f.From, ToTime: f.To, Limit: limit + 1}
	var res Result
	err := s.Read(ctx, q, func(r eventlog.Record) error {
		res.Records = append(res.Records, r)
		return nil
	})
	if len(res.Records) > limit {
		res.Records, res.More = res.Records[:limit], true
	}
	if err != nil {
		return res, fmt.Errorf("search audit: %w", err)
	}
	return res, nil
}
