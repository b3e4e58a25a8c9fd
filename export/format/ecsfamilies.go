package format

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// The ECS builders, one an event type, grouped by family. Each decodes the
// data at its current version and fills the document's objects.

// Database activity: queries, their results and cancels (category
// database, type access).

func (m *ecsEvent) query() error {
	q, err := decode[schemas.Query](m.ev)
	if err != nil {
		return err
	}
	m.setUser(m.user)
	m.db["statement"] = q.Statement
	m.tg["query"] = map[string]any{"n": q.N, "kind": q.Kind, "statement_name": q.StatementName, "portal": q.Portal,
		"params": q.Params, "truncated": q.Truncated, "sha256": q.SHA256}
	return nil
}

func (m *ecsEvent) queryResult() error {
	r, err := decode[schemas.QueryResult](m.ev)
	if err != nil {
		return err
	}
	m.setUser(m.user)
	m.outcome = "success"
	if r.Status == schemas.ResultError {
		m.outcome = "failure"
	}
	m.evt["duration"] = r.DurationUS * 1000
	if r.SQLState != "" {
		m.db["sqlstate"] = r.SQLState
		m.d["error"] = map[string]any{"code": r.SQLState, "message": r.Error}
	}
	m.tg["result"] = map[string]any{"n": r.N, "status": r.Status, "command_tag": r.CommandTag, "rows": r.Rows}
	return nil
}

// queryPolicy maps query.denied (event.type denied, outcome failure: the
// query did not run), query.would_deny and query.flagged (info: it ran).
func (m *ecsEvent) queryPolicy() error {
	p, err := decode[schemas.QueryPolicy](m.ev)
	if err != nil {
		return err
	}
	m.setUser(m.user)
	m.outcome = "success"
	if m.ev.Type == schemas.TypeQueryDenied {
		m.typ, m.outcome = []string{"access", "denied"}, "failure"
	} else {
		m.typ = []string{"access", "info"}
	}
	m.d["rule"] = map[string]any{"name": p.Rule, "ruleset": p.Role, "description": p.Reason}
	m.tg["policy"] = map[string]any{"n": p.N, "action": p.Action, "statement": p.Statement}
	return nil
}

func (m *ecsEvent) cancel() error {
	c, err := decode[schemas.SessionCancel](m.ev)
	if err != nil {
		return err
	}
	m.setUser(m.user)
	m.outcome = "failure"
	if c.Matched && c.Forwarded {
		m.outcome = "success"
	}
	m.d["source"] = map[string]any{"address": c.ClientAddr}
	m.tg["cancel"] = map[string]any{"matched": c.Matched, "forwarded": c.Forwarded, "reason": c.Reason}
	return nil
}

// Database sessions (category database and session).

func (m *ecsEvent) sessionStarted() error {
	s, err := decode[schemas.SessionStarted](m.ev)
	if err != nil {
		return err
	}
	m.setUser(s.User)
	m.category, m.typ, m.outcome = []string{"database", "session"}, []string{"start", "allowed"}, "success"
	m.db["name"], m.db["user"], m.db["db_name"], m.db["system"] = s.Database, s.DBUser, s.DBName, s.Protocol
	m.d["source"] = map[string]any{"address": s.ClientAddr}
	m.d["agent"] = map[string]any{"id": s.AgentID}
	m.tg["session"] = map[string]any{"roles": s.Roles, "decided_by": s.DecidedBy, "params": s.Params, "cert_serial": s.CertSerial}
	return nil
}

func (m *ecsEvent) sessionRejected() error {
	s, err := decode[schemas.SessionRejected](m.ev)
	if err != nil {
		return err
	}
	m.setUser(s.User)
	m.category, m.typ, m.outcome = []string{"database", "session"}, []string{"start", "denied"}, "failure"
	if s.Database != "" {
		m.db["name"] = s.Database
	}
	m.db["user"], m.db["db_name"] = s.DBUser, s.DBName
	m.d["source"] = map[string]any{"address": s.ClientAddr}
	m.evt["reason"] = s.Reason
	m.d["error"] = map[string]any{"code": s.Code, "message": s.Reason}
	return nil
}

func (m *ecsEvent) sessionEnded() error {
	s, err := decode[schemas.SessionEnded](m.ev)
	if err != nil {
		return err
	}
	m.setUser(m.user)
	m.category, m.typ, m.outcome = []string{"database", "session"}, []string{"end"}, "success"
	m.evt["duration"] = s.DurationMS * int64(time.Millisecond)
	m.evt["reason"] = s.Reason
	m.tg["session"] = map[string]any{"queries": s.Queries, "bytes_in": s.BytesIn, "bytes_out": s.BytesOut, "message": s.Message}
	return nil
}

// Logins to control (category authentication).

func (m *ecsEvent) login() error {
	a, err := decode[schemas.AuthLogin](m.ev)
	if err != nil {
		return err
	}
	m.setUser(a.User)
	m.category, m.typ, m.outcome = []string{"authentication"}, []string{"start"}, "failure"
	if a.Success {
		m.outcome = "success"
	}
	if a.RemoteAddr != "" {
		m.d["source"] = map[string]any{"address": a.RemoteAddr}
	}
	if a.Reason != "" {
		m.evt["reason"] = a.Reason
	}
	m.tg["login"] = map[string]any{"method": a.Method}
	return nil
}

// Changes: every other event (category iam; type change, creation or
// deletion, plus user or group), its data passed on.

func (m *ecsEvent) change() error {
	m.category, m.outcome = []string{"iam"}, "success"
	if m.ev.Type == schemas.TypeCertIssued {
		m.category = []string{"iam", "configuration"}
	}
	switch changeOf(m.ev.Type) {
	case changeCreate:
		m.typ = []string{"creation"}
	case changeDelete:
		m.typ = []string{"deletion"}
	default:
		m.typ = []string{"change"}
	}
	data, err := currentData(m.ev)
	if err != nil {
		return err
	}
	if strings.HasPrefix(m.ev.Type, "user.") {
		m.typ = append(m.typ, "user")
		var u struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(data, &u)
		m.d["user"] = map[string]any{"target": map[string]any{"name": u.Name}}
		m.users = append(m.users, u.Name)
	}
	if strings.HasPrefix(m.ev.Type, "role.") {
		m.typ = append(m.typ, "group")
	}
	m.tg["data"] = data
	return nil
}
