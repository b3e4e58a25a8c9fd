package auditquery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// SessionMatch is one session whose id starts with a prefix, as its
// session.started (or, for a refused one, session.rejected) tells it.
type SessionMatch struct {
	ID       string    `json:"id"`
	User     string    `json:"user,omitempty"`
	Database string    `json:"database,omitempty"`
	At       time.Time `json:"at"`
	Rejected bool      `json:"rejected,omitempty"`
}

// prefixSkew is how much earlier than the time in a session id (a ULID:
// its first 10 characters are the millisecond the agent accepted the
// connection) the stream may have stored the session's first event, for
// the clocks of the agent and of the NATS server differing.
const prefixSkew = time.Hour

// SessionsByPrefix finds the sessions whose id starts with prefix
// (letters in either case), reading only session.started and
// session.rejected events (a server-side subject filter) and, when the
// prefix reads as the start of a ULID, only those stored from the time it
// gives (less prefixSkew). It returns at most limit matches in stream
// order and how many there are in all.
func SessionsByPrefix(ctx context.Context, s eventlog.Reader, prefix string, limit int) ([]SessionMatch, int, error) {
	if prefix == "" {
		return nil, 0, fmt.Errorf("session: a session id or its prefix is required")
	}
	q := eventlog.Query{Subjects: []string{
		eventlog.AuditFilter("", "", "", schemas.TypeSessionStarted),
		eventlog.AuditFilter("", "", "", schemas.TypeSessionRejected),
	}}
	if t, ok := ulidFloor(prefix); ok {
		q.FromTime = t.Add(-prefixSkew)
	}
	var (
		out  []SessionMatch
		seen = map[string]bool{}
	)
	err := s.Read(ctx, q, func(r eventlog.Record) error {
		var m SessionMatch
		switch r.Event.Type {
		case schemas.TypeSessionStarted:
			d, err := decode[schemas.SessionStarted](&r.Event)
			if err != nil {
				return err
			}
			m = SessionMatch{ID: d.SessionID, User: d.User, Database: d.Database, At: r.Event.Time}
		case schemas.TypeSessionRejected:
			d, err := decode[schemas.SessionRejected](&r.Event)
			if err != nil {
				return err
			}
			m = SessionMatch{ID: d.SessionID, User: d.User, Database: d.Database, At: r.Event.Time, Rejected: true}
		default:
			return nil
		}
		if seen[m.ID] || len(m.ID) < len(prefix) || !strings.EqualFold(m.ID[:len(prefix)], prefix) {
			return nil
		}
		seen[m.ID] = true
		if len(out) < limit {
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find sessions starting with %s: %w", prefix, err)
	}
	return out, len(seen), nil
}

// ulidFloor is the earliest time of a ULID that starts with prefix.
func ulidFloor(prefix string) (time.Time, bool) {
	if len(prefix) > ulid.EncodedSize {
		return time.Time{}, false
	}
	id, err := ulid.ParseStrict(strings.ToUpper(prefix) + strings.Repeat("0", ulid.EncodedSize-len(prefix)))
	if err != nil {
		return time.Time{}, false
	}
	t := ulid.Time(id.Time())
	if t.Year() > 9999 { // not a time a stream can be asked for
		return time.Time{}, false
	}
	return t, true
}
