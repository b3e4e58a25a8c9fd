package format

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// ECSVersion is the ECS version the mapping follows.
const ECSVersion = "8.11.0"

// ECS maps events to Elastic Common Schema documents.
type ECS struct{}

// Name returns "ecs".
func (ECS) Name() string { return "ecs" }

// Format maps one event.
func (ECS) Format(ev *eventlog.Event) ([]byte, error) {
	m := newECSEvent(ev)
	if err := m.body(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m.finish())
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return b, nil
}

// Append appends the mapping of ev to dst (dst unchanged on an error).
func (f ECS) Append(dst []byte, ev *eventlog.Event) ([]byte, error) {
	b, err := f.Format(ev)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// ecsEvent is one event being mapped: its document, the objects in it the
// family builders fill (event.*, tollgate.*, db.*), and what event.* and
// related.user get once they are done.
type ecsEvent struct {
	ev             *eventlog.Event
	d, evt, tg, db map[string]any
	user           string // the user the audit subject names
	users          []string
	category, typ  []string
	outcome        string
}

// newECSEvent fills what every document has: @timestamp, ecs, event.*,
// service, tollgate.* (the envelope), and the database and session of the
// subject; by default an event is a database access of unknown outcome.
func newECSEvent(ev *eventlog.Event) *ecsEvent {
	stream := streamOf(ev)
	m := &ecsEvent{ev: ev, users: []string{}, category: []string{"database"}, typ: []string{"access"}, outcome: "unknown"}
	m.evt = map[string]any{
		"id":      ev.ID,
		"kind":    "event",
		"action":  ev.Type,
		"dataset": "tollgate." + stream,
		"module":  "tollgate",
		"created": ev.Time.UTC().Format(time.RFC3339Nano),
	}
	m.tg = map[string]any{"type": ev.Type, "v": ev.V, "source": ev.Source, "subject": ev.Subject}
	if ev.Seq != 0 {
		m.tg["chain"] = map[string]any{"seq": ev.Seq, "prev": ev.Prev, "hash": ev.Hash}
	}
	m.d = map[string]any{
		"@timestamp": ev.Time.UTC().Format(time.RFC3339Nano),
		"ecs":        map[string]any{"version": ECSVersion},
		"event":      m.evt,
		"service":    map[string]any{"type": "tollgate", "id": ev.Source},
		"tollgate":   m.tg,
	}
	if ev.Actor != "" {
		m.users = append(m.users, ev.Actor)
	}
	dbName, user, session := auditParts(ev.Subject)
	m.user = user
	if session != "" {
		m.tg["session_id"] = session
	}
	m.db = map[string]any{}
	if dbName != "" {
		m.db["name"] = dbName
	}
	return m
}

// setUser makes name the document's user.name (and a related user).
func (m *ecsEvent) setUser(name string) {
	if name != "" {
		m.d["user"] = map[string]any{"name": name}
		m.users = append(m.users, name)
	}
}

// body maps the event's data with the builder of its family: database
// activity (queries, cancels), database sessions, logins to control, and
// changes (every control event, cert.issued).
func (m *ecsEvent) body() error {
	switch m.ev.Type {
	case schemas.TypeQuery:
		return m.query()
	case schemas.TypeQueryResult:
		return m.queryResult()
	case schemas.TypeQueryDenied, schemas.TypeQueryWouldDeny, schemas.TypeQueryFlagged:
		return m.queryPolicy()
	case schemas.TypeSessionCancel:
		return m.cancel()
	case schemas.TypeSessionStarted:
		return m.sessionStarted()
	case schemas.TypeSessionRejected:
		return m.sessionRejected()
	case schemas.TypeSessionEnded:
		return m.sessionEnded()
	case schemas.TypeAuthLogin:
		return m.login()
	}
	return m.change()
}

// finish sets event.category, type and outcome, db.*, the actor as
// user.name where no builder named a user, and related.user.
func (m *ecsEvent) finish() map[string]any {
	m.evt["category"], m.evt["type"], m.evt["outcome"] = m.category, m.typ, m.outcome
	if len(m.db) > 0 {
		m.d["db"] = m.db
	}
	if a := m.ev.Actor; a != "" {
		if u, ok := m.d["user"].(map[string]any); ok {
			if _, has := u["name"]; !has {
				u["name"] = a
			}
		} else {
			m.d["user"] = map[string]any{"name": a}
		}
	}
	if len(m.users) > 0 {
		m.d["related"] = map[string]any{"user": dedup(m.users)}
	}
	return m.d
}

func dedup(s []string) []string {
	out := s[:0:0]
	seen := map[string]bool{}
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
