package format

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-db/tollgate/schemas"
)

// The OCSF builders, one an event type, grouped by family (see the package
// doc for the classes). Each decodes the data at its current version and
// fills m.d and m.un.

// Datastore Activity 6005: queries, their results and cancels.

// datastore sets the class and the database every datastore activity
// names.
func (m *ocsfEvent) datastore(activity int, name string, status int) {
	m.d.set(ocsfDatastore, activity, name, status)
	m.d.TypeID, m.d.Type = 1, "Database"
	m.d.Database = &ocsfDatabase{Name: m.db, Type: "Relational", TypeID: 1}
}

// queryParty names the database a query went to and the user who sent it.
func (m *ocsfEvent) queryParty() {
	m.d.DstEndpoint = map[string]any{"name": m.db}
	if m.user != "" {
		m.d.Actor = &ocsfActor{User: ocsfUser{Name: m.user}}
	}
}

func (m *ocsfEvent) query() error {
	q, err := decode[schemas.Query](m.ev)
	if err != nil {
		return err
	}
	m.datastore(4, "Query", statusUnknown)
	m.queryParty()
	m.d.QueryInfo = &ocsfQueryInfo{UID: fmt.Sprintf("%s/%d", q.SessionID, q.N), QueryString: q.Statement, Name: q.StatementName}
	m.un["kind"] = q.Kind
	if len(q.Params) > 0 {
		m.un["params"] = q.Params
	}
	if q.Portal != "" {
		m.un["portal"] = q.Portal
	}
	if q.Truncated {
		m.un["truncated"] = true
		m.un["sha256"] = q.SHA256
	}
	return nil
}

func (m *ocsfEvent) queryResult() error {
	r, err := decode[schemas.QueryResult](m.ev)
	if err != nil {
		return err
	}
	st := statusSuccess
	if r.Status == schemas.ResultError {
		st = statusFailure
	}
	m.datastore(4, "Query", st)
	m.queryParty()
	m.d.QueryInfo = &ocsfQueryInfo{UID: fmt.Sprintf("%s/%d", r.SessionID, r.N)}
	ms := r.DurationUS / 1000
	m.d.Duration = &ms
	m.d.StatusCode, m.d.StatusDetail = r.SQLState, r.Error
	m.un["rows"] = r.Rows
	m.un["command_tag"] = r.CommandTag
	m.un["result_status"] = r.Status
	m.un["duration_us"] = r.DurationUS
	return nil
}

func (m *ocsfEvent) cancel() error {
	c, err := decode[schemas.SessionCancel](m.ev)
	if err != nil {
		return err
	}
	st := statusFailure
	if c.Matched && c.Forwarded {
		st = statusSuccess
	}
	m.datastore(99, "Cancel", st)
	m.setSource(c.ClientAddr)
	m.d.StatusDetail = c.Reason
	m.un["matched"], m.un["forwarded"] = c.Matched, c.Forwarded
	return nil
}

// setSource sets the source endpoint when there is an address.
func (m *ocsfEvent) setSource(addr string) {
	if ep := endpoint(addr); ep != nil {
		m.d.SrcEndpoint = ep
	}
}

// Authentication 3002: logins to control, database sessions.

func ocsfUserObj(name string) map[string]any { return map[string]any{"name": name} }

func (m *ocsfEvent) login() error {
	a, err := decode[schemas.AuthLogin](m.ev)
	if err != nil {
		return err
	}
	st := statusFailure
	if a.Success {
		st = statusSuccess
	}
	m.d.set(ocsfAuthentication, 1, "Logon", st)
	m.d.User = ocsfUserObj(a.User)
	m.d.AuthProtocolID, m.d.AuthProtocol = 99, a.Method
	m.d.Service = map[string]any{"name": "tollgate-control"}
	m.setSource(a.RemoteAddr)
	m.d.StatusDetail = a.Reason
	return nil
}

func (m *ocsfEvent) sessionStarted() error {
	s, err := decode[schemas.SessionStarted](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAuthentication, 1, "Logon", statusSuccess)
	m.d.User = ocsfUserObj(s.User)
	m.d.Service = map[string]any{"name": s.Database}
	m.d.DstEndpoint = map[string]any{"name": s.Database, "agent_list": []any{map[string]any{"uid": s.AgentID}}}
	m.setSource(s.ClientAddr)
	m.d.Session = map[string]any{"uid": s.SessionID}
	m.un["db_user"], m.un["db_name"], m.un["protocol"] = s.DBUser, s.DBName, s.Protocol
	m.un["roles"], m.un["decided_by"], m.un["params"], m.un["cert_serial"] = s.Roles, s.DecidedBy, s.Params, s.CertSerial
	return nil
}

func (m *ocsfEvent) sessionRejected() error {
	s, err := decode[schemas.SessionRejected](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAuthentication, 1, "Logon", statusFailure)
	m.d.User = ocsfUserObj(s.User)
	m.d.Service = map[string]any{"name": s.Database}
	m.setSource(s.ClientAddr)
	m.d.Session = map[string]any{"uid": s.SessionID}
	m.d.StatusCode, m.d.StatusDetail = s.Code, s.Reason
	m.un["db_user"], m.un["db_name"], m.un["params"] = s.DBUser, s.DBName, s.Params
	return nil
}

func (m *ocsfEvent) sessionEnded() error {
	s, err := decode[schemas.SessionEnded](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAuthentication, 2, "Logoff", statusSuccess)
	m.d.User = ocsfUserObj(m.user)
	m.d.Service = map[string]any{"name": m.db}
	m.d.Session = map[string]any{"uid": s.SessionID}
	m.d.Duration = &s.DurationMS
	m.d.StatusDetail = s.Reason
	m.un["queries"], m.un["bytes_in"], m.un["bytes_out"], m.un["message"] = s.Queries, s.BytesIn, s.BytesOut, s.Message
	return nil
}

// Account Change 3001 and User Access Management 3005: users.

func (m *ocsfEvent) userCreated() error {
	u, err := decode[schemas.UserCreated](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAccountChange, 1, "Create", statusSuccess)
	m.un["roles"] = u.Roles
	m.d.User = ocsfUserObj(u.Name)
	return nil
}

func (m *ocsfEvent) userDeleted() error {
	u, err := decode[schemas.UserDeleted](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAccountChange, 6, "Delete", statusSuccess)
	m.d.User = ocsfUserObj(u.Name)
	return nil
}

func (m *ocsfEvent) passwordSet() error {
	u, err := decode[schemas.UserPasswordSet](m.ev)
	if err != nil {
		return err
	}
	if u.Via == "reset" {
		m.d.set(ocsfAccountChange, 4, "Password Reset", statusSuccess)
	} else {
		m.d.set(ocsfAccountChange, 3, "Password Change", statusSuccess)
	}
	m.d.User = ocsfUserObj(u.Name)
	return nil
}

func (m *ocsfEvent) inviteCreated() error {
	u, err := decode[schemas.UserInviteCreated](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAccountChange, 99, "Invite", statusSuccess)
	m.d.User = ocsfUserObj(u.Name)
	return nil
}

func (m *ocsfEvent) userUpdated() error {
	u, err := decode[schemas.UserUpdated](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfUserAccessMgmt, 1, "Assign Privileges", statusSuccess)
	m.d.User = ocsfUserObj(u.Name)
	m.d.Privileges = nonNil(u.Roles)
	if len(u.Traits) > 0 {
		m.un["traits"] = u.Traits
	}
	return nil
}

// Entity Management 3004: every other event (roles, tokens, agents,
// databases, locks, CAs, the cluster, cert.issued), its data passed on.

func (m *ocsfEvent) entity() error {
	activity, name := 3, "Update"
	switch changeOf(m.ev.Type) {
	case changeCreate:
		activity, name = 1, "Create"
	case changeDelete:
		activity, name = 4, "Delete"
	}
	data, err := currentData(m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfEntityMgmt, activity, name, statusSuccess)
	m.d.Entity = entityOf(m.ev.Type, data)
	m.un["data"] = data
	return nil
}

// entityOf names the managed entity of a control (or cert.issued) event
// from its data at the current version.
func entityOf(typ string, data json.RawMessage) map[string]any {
	var v struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Hash   string `json:"hash"`
		CAType string `json:"ca_type"`
		Serial string `json:"serial"`
		Subj   string `json:"subject"`
	}
	_ = json.Unmarshal(data, &v)
	kind, _, _ := strings.Cut(typ, ".")
	e := map[string]any{"type": kind}
	switch {
	case typ == schemas.TypeCertIssued:
		e["type"], e["uid"], e["name"] = "certificate", v.Serial, v.Subj
	case v.Name != "":
		e["name"] = v.Name
	case v.ID != "":
		e["uid"] = v.ID
	case v.Hash != "":
		e["uid"] = v.Hash
	case v.CAType != "":
		e["type"], e["name"] = "certificate_authority", v.CAType
	}
	return e
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
