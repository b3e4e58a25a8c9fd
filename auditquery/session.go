package auditquery

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// ErrNoSession means no event of the session exists.
var ErrNoSession = errors.New("no such session")

// Transcript is one session as the audit log tells it.
type Transcript struct {
	SessionID string
	// Started or Rejected says how the session began (each is set when
	// that event is present). Both are set for a strict session whose
	// session.started was stored late: it was refused (code
	// audit_unavailable) and never reached the database.
	Started    *schemas.SessionStarted
	Rejected   *schemas.SessionRejected
	StartedAt  time.Time
	RejectedAt time.Time `json:",omitzero"`
	// Queries in order of their number, each with its result if any.
	Queries []QueryEntry
	Cancels []CancelEntry
	// Ended is how the session ended (nil while it is live or when the end
	// was not recorded).
	Ended   *schemas.SessionEnded
	EndedAt time.Time
	// Records counts the events read.
	Records int
}

// QueryEntry is one query and its outcome.
type QueryEntry struct {
	At       time.Time
	Query    schemas.Query
	Result   *schemas.QueryResult
	ResultAt time.Time
	// Policy are the statement rules that matched it (query.denied,
	// query.would_deny, query.flagged).
	Policy []PolicyEntry
}

// PolicyEntry is what a statement rule said of a query.
type PolicyEntry struct {
	Type  string // schemas.TypeQueryDenied, TypeQueryWouldDeny or TypeQueryFlagged
	Match schemas.QueryPolicy
}

// CancelEntry is one CancelRequest aimed at the session.
type CancelEntry struct {
	At     time.Time
	Cancel schemas.SessionCancel
}

// Session reads the events of one session (a server-side subject filter on
// the session token) and assembles its transcript.
func Session(ctx context.Context, s eventlog.Reader, sessionID string) (Transcript, error) {
	if sessionID == "" {
		return Transcript{}, fmt.Errorf("session: a session id is required")
	}
	t := Transcript{SessionID: sessionID}
	byN := map[uint64]*QueryEntry{}
	results := map[uint64]QueryEntry{}
	pol := map[uint64][]PolicyEntry{}
	q := eventlog.Query{Subjects: []string{eventlog.AuditFilter("", "", sessionID, "")}}
	err := s.Read(ctx, q, func(r eventlog.Record) error {
		t.Records++
		ev := &r.Event
		switch ev.Type {
		case schemas.TypeSessionStarted:
			d, err := decode[schemas.SessionStarted](ev)
			if err != nil {
				return err
			}
			t.Started, t.StartedAt = d, ev.Time
		case schemas.TypeSessionRejected:
			d, err := decode[schemas.SessionRejected](ev)
			if err != nil {
				return err
			}
			t.Rejected, t.RejectedAt = d, ev.Time
			if t.Started == nil {
				t.StartedAt = ev.Time
			}
		case schemas.TypeQuery:
			d, err := decode[schemas.Query](ev)
			if err != nil {
				return err
			}
			e := &QueryEntry{At: ev.Time, Query: *d}
			if res, ok := results[d.N]; ok {
				e.Result, e.ResultAt = res.Result, res.ResultAt
				delete(results, d.N)
			}
			byN[d.N] = e
		case schemas.TypeQueryResult:
			d, err := decode[schemas.QueryResult](ev)
			if err != nil {
				return err
			}
			if e, ok := byN[d.N]; ok {
				e.Result, e.ResultAt = d, ev.Time
			} else {
				results[d.N] = QueryEntry{Result: d, ResultAt: ev.Time}
			}
		case schemas.TypeQueryDenied, schemas.TypeQueryWouldDeny, schemas.TypeQueryFlagged:
			d, err := decode[schemas.QueryPolicy](ev)
			if err != nil {
				return err
			}
			pol[d.N] = append(pol[d.N], PolicyEntry{Type: ev.Type, Match: *d})
		case schemas.TypeSessionCancel:
			d, err := decode[schemas.SessionCancel](ev)
			if err != nil {
				return err
			}
			t.Cancels = append(t.Cancels, CancelEntry{At: ev.Time, Cancel: *d})
		case schemas.TypeSessionEnded:
			d, err := decode[schemas.SessionEnded](ev)
			if err != nil {
				return err
			}
			t.Ended, t.EndedAt = d, ev.Time
		}
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("session %s: %w", sessionID, err)
	}
	if t.Records == 0 {
		return t, fmt.Errorf("session %s: %w", sessionID, ErrNoSession)
	}
	// A result whose query is missing still shows, with an empty query.
	for n, res := range results {
		r := res
		r.Query = schemas.Query{SessionID: sessionID, N: n}
		byN[n] = &r
	}
	t.Queries = make([]QueryEntry, 0, len(byN))
	for n, e := range byN {
		e.Policy = pol[n]
		t.Queries = append(t.Queries, *e)
	}
	sort.Slice(t.Queries, func(i, j int) bool { return t.Queries[i].Query.N < t.Queries[j].Query.N })
	return t, nil
}

// decode reads ev's data through schemas.DecodeAs, upcasting an old
// version.
func decode[T any](ev *eventlog.Event) (*T, error) {
	v, err := schemas.DecodeAs[T](*ev)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	return v, nil
}
