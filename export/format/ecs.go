package format

import (
	"encoding/json"
	"fmt"
	"strings"
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
	stream := streamOf(ev)
	evt := map[string]any{
		"id":      ev.ID,
		"kind":    "event",
		"action":  ev.Type,
		"dataset": "tollgate." + stream,
		"module":  "tollgate",
		"created": ev.Time.UTC().Format(time.RFC3339Nano),
	}
	tg := map[string]any{"type": ev.Type, "v": ev.V, "source": ev.Source, "subject": ev.Subject}
	if ev.Seq != 0 {
		tg["chain"] = map[string]any{"seq": ev.Seq, "prev": ev.Prev, "hash": ev.Hash}
	}
	d := map[string]any{
		"@timestamp": ev.Time.UTC().Format(time.RFC3339Nano),
		"ecs":        map[string]any{"version": ECSVersion},
		"event":      evt,
		"service":    map[string]any{"type": "tollgate", "id": ev.Source},
		"tollgate":   tg,
	}
	users := []string{}
	setUser := func(name string) {
		if name != "" {
			d["user"] = map[string]any{"name": name}
			users = append(users, name)
		}
	}
	if ev.Actor != "" {
		users = append(users, ev.Actor)
	}
	dbName, user, session := auditParts(ev.Subject)
	if session != "" {
		tg["session_id"] = session
	}
	dbf := map[string]any{}
	if dbName != "" {
		dbf["name"] = dbName
	}
	category, typ, outcome := []string{"database"}, []string{"access"}, "unknown"
	switch ev.Type {
	case schemas.TypeQuery:
		q, err := decode[schemas.Query](ev)
		if err != nil {
			return nil, err
		}
		setUser(user)
		dbf["statement"] = q.Statement
		tg["query"] = map[string]any{"n": q.N, "kind": q.Kind, "statement_name": q.StatementName, "portal": q.Portal,
			"params": q.Params, "truncated": q.Truncated, "sha256": q.SHA256}
	case schemas.TypeQueryResult:
		r, err := decode[schemas.QueryResult](ev)
		if err != nil {
			return nil, err
		}
		setUser(user)
		outcome = "success"
		if r.Status == schemas.ResultError {
			outcome = "failure"
		}
		evt["duration"] = r.DurationUS * 1000
		if r.SQLState != "" {
			dbf["sqlstate"] = r.SQLState
			d["error"] = map[string]any{"code": r.SQLState, "message": r.Error}
		}
		tg["result"] = map[string]any{"n": r.N, "status": r.Status, "command_tag": r.CommandTag, "rows": r.Rows}
	case schemas.TypeSessionStarted:
		s, err := decode[schemas.SessionStarted](ev)
		if err != nil {
			return nil, err
		}
		setUser(s.User)
		category, typ, outcome = []string{"database", "session"}, []string{"start", "allowed"}, "success"
		dbf["name"], dbf["user"], dbf["db_name"], dbf["system"] = s.Database, s.DBUser, s.DBName, s.Protocol
		d["source"] = map[string]any{"address": s.ClientAddr}
		d["agent"] = map[string]any{"id": s.AgentID}
		tg["session"] = map[string]any{"roles": s.Roles, "decided_by": s.DecidedBy, "params": s.Params, "cert_serial": s.CertSerial}
	case schemas.TypeSessionRejected:
		s, err := decode[schemas.SessionRejected](ev)
		if err != nil {
			return nil, err
		}
		setUser(s.User)
		category, typ, outcome = []string{"database", "session"}, []string{"start", "denied"}, "failure"
		if s.Database != "" {
			dbf["name"] = s.Database
		}
		dbf["user"], dbf["db_name"] = s.DBUser, s.DBName
		d["source"] = map[string]any{"address": s.ClientAddr}
		evt["reason"] = s.Reason
		d["error"] = map[string]any{"code": s.Code, "message": s.Reason}
	case schemas.TypeSessionEnded:
		s, err := decode[schemas.SessionEnded](ev)
		if err != nil {
			return nil, err
		}
		setUser(user)
		category, typ, outcome = []string{"database", "session"}, []string{"end"}, "success"
		evt["duration"] = s.DurationMS * int64(time.Millisecond)
		evt["reason"] = s.Reason
		tg["session"] = map[string]any{"queries": s.Queries, "bytes_in": s.BytesIn, "bytes_out": s.BytesOut, "message": s.Message}
	case schemas.TypeSessionCancel:
		c, err := decode[schemas.SessionCancel](ev)
		if err != nil {
			return nil, err
		}
		setUser(user)
		outcome = "failure"
		if c.Matched && c.Forwarded {
			outcome = "success"
		}
		d["source"] = map[string]any{"address": c.ClientAddr}
		tg["cancel"] = map[string]any{"matched": c.Matched, "forwarded": c.Forwarded, "reason": c.Reason}
	case schemas.TypeAuthLogin:
		a, err := decode[schemas.AuthLogin](ev)
		if err != nil {
			return nil, err
		}
		setUser(a.User)
		category, typ, outcome = []string{"authentication"}, []string{"start"}, "failure"
		if a.Success {
			outcome = "success"
		}
		if a.RemoteAddr != "" {
			d["source"] = map[string]any{"address": a.RemoteAddr}
		}
		if a.Reason != "" {
			evt["reason"] = a.Reason
		}
		tg["login"] = map[string]any{"method": a.Method}
	default:
		category, outcome = []string{"iam"}, "success"
		if ev.Type == schemas.TypeCertIssued {
			category = []string{"iam", "configuration"}
		}
		typ = []string{"change"}
		switch {
		case strings.HasSuffix(ev.Type, ".created"), strings.HasSuffix(ev.Type, ".registered"),
			strings.HasSuffix(ev.Type, ".joined"), ev.Type == schemas.TypeCertIssued:
			typ = []string{"creation"}
		case strings.HasSuffix(ev.Type, ".deleted"), strings.HasSuffix(ev.Type, ".deregistered"):
			typ = []string{"deletion"}
		}
		data, err := currentData(ev)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(ev.Type, "user.") {
			typ = append(typ, "user")
			var u struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(data, &u)
			d["user"] = map[string]any{"target": map[string]any{"name": u.Name}}
			users = append(users, u.Name)
		}
		if strings.HasPrefix(ev.Type, "role.") {
			typ = append(typ, "group")
		}
		tg["data"] = data
	}
	evt["category"], evt["type"], evt["outcome"] = category, typ, outcome
	if len(dbf) > 0 {
		d["db"] = dbf
	}
	if ev.Actor != "" {
		if u, ok := d["user"].(map[string]any); ok {
			if _, has := u["name"]; !has {
				u["name"] = ev.Actor
			}
		} else {
			d["user"] = map[string]any{"name": ev.Actor}
		}
	}
	if len(users) > 0 {
		d["related"] = map[string]any{"user": dedup(users)}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return b, nil
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
