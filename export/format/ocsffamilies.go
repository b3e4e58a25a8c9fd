package format

import (
	"encoding/json"
	"strconv"
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
	m.d.Database = named(m.db)
}

// queryParty names the database a query went to and the user who sent it.
func (m *ocsfEvent) queryParty() {
	m.d.DstEndpoint = ocsfDst{set: true, name: m.db}
	if m.user != "" {
		m.d.Actor = named(m.user)
	}
}

func (m *ocsfEvent) query() error {
	q, err := decode[schemas.Query](m.ev)
	if err != nil {
		return err
	}
	m.datastore(4, "Query", statusUnknown)
	m.queryParty()
	m.d.QueryInfo = ocsfQueryInfo{set: true, UID: queryUID(q.SessionID, q.N), QueryString: q.Statement, Name: q.StatementName}
	m.un.str("kind", q.Kind)
	if len(q.Params) > 0 {
		m.un.params("params", q.Params)
	}
	if q.Portal != "" {
		m.un.str("portal", q.Portal)
	}
	if q.Truncated {
		m.un.bool("truncated", true)
		m.un.str("sha256", q.SHA256)
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
	m.d.QueryInfo = ocsfQueryInfo{set: true, UID: queryUID(r.SessionID, r.N)}
	m.d.Duration = ocsfInt{set: true, n: r.DurationUS / 1000}
	m.d.StatusCode, m.d.StatusDetail = r.SQLState, r.Error
	m.un.int("rows", r.Rows)
	m.un.str("command_tag", r.CommandTag)
	m.un.str("result_status", r.Status)
	m.un.int("duration_us", r.DurationUS)
	return nil
}

// queryPolicy maps query.denied (a Query activity that failed: the
// statement rule blocked it), query.would_deny and query.flagged (the
// query ran: status success, the match in status_detail).
func (m *ocsfEvent) queryPolicy() error {
	p, err := decode[schemas.QueryPolicy](m.ev)
	if err != nil {
		return err
	}
	st := statusSuccess
	if m.ev.Type == schemas.TypeQueryDenied {
		st = statusFailure
		m.d.StatusCode = "42501"
	}
	m.datastore(4, "Query", st)
	m.queryParty()
	m.d.QueryInfo = ocsfQueryInfo{set: true, UID: queryUID(p.SessionID, p.N)}
	m.d.StatusDetail = p.Reason
	m.un.str("policy_role", p.Role)
	m.un.str("policy_rule", p.Rule)
	m.un.str("policy_action", p.Action)
	m.un.int("policy_statement", int64(p.Statement))
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
	m.un.bool("matched", c.Matched)
	m.un.bool("forwarded", c.Forwarded)
	return nil
}

// setSource sets the source endpoint when there is an address.
func (m *ocsfEvent) setSource(addr string) {
	m.d.SrcEndpoint = endpoint(addr)
}

// Authentication 3002: logins to control, database sessions.

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
	m.d.User = named(a.User)
	m.d.AuthProtocolID, m.d.AuthProtocol = 99, a.Method
	m.d.Service = named("tollgate-control")
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
	m.d.User = named(s.User)
	m.d.Service = named(s.Database)
	m.d.DstEndpoint = ocsfDst{set: true, name: s.Database, agent: &s.AgentID}
	m.setSource(s.ClientAddr)
	m.d.Session = named(s.SessionID)
	m.un.str("db_user", s.DBUser)
	m.un.str("db_name", s.DBName)
	m.un.str("protocol", s.Protocol)
	m.un.strs("roles", s.Roles)
	m.un.str("decided_by", s.DecidedBy)
	m.un.json("params", s.Params)
	m.un.str("cert_serial", s.CertSerial)
	return nil
}

func (m *ocsfEvent) sessionRejected() error {
	s, err := decode[schemas.SessionRejected](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAuthentication, 1, "Logon", statusFailure)
	m.d.User = named(s.User)
	m.d.Service = named(s.Database)
	m.setSource(s.ClientAddr)
	m.d.Session = named(s.SessionID)
	m.d.StatusCode, m.d.StatusDetail = s.Code, s.Reason
	m.un.str("db_user", s.DBUser)
	m.un.str("db_name", s.DBName)
	m.un.json("params", s.Params)
	return nil
}

func (m *ocsfEvent) sessionEnded() error {
	s, err := decode[schemas.SessionEnded](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAuthentication, 2, "Logoff", statusSuccess)
	m.d.User = named(m.user)
	m.d.Service = named(m.db)
	m.d.Session = named(s.SessionID)
	m.d.Duration = ocsfInt{set: true, n: s.DurationMS}
	m.d.StatusDetail = s.Reason
	m.un.uint("queries", s.Queries)
	m.un.int("bytes_in", s.BytesIn)
	m.un.int("bytes_out", s.BytesOut)
	m.un.str("message", s.Message)
	return nil
}

// Account Change 3001 and User Access Management 3005: users.

func (m *ocsfEvent) userCreated() error {
	u, err := decode[schemas.UserCreated](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAccountChange, 1, "Create", statusSuccess)
	m.un.strs("roles", u.Roles)
	m.d.User = named(u.Name)
	return nil
}

func (m *ocsfEvent) userDeleted() error {
	u, err := decode[schemas.UserDeleted](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAccountChange, 6, "Delete", statusSuccess)
	m.d.User = named(u.Name)
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
	m.d.User = named(u.Name)
	return nil
}

func (m *ocsfEvent) inviteCreated() error {
	u, err := decode[schemas.UserInviteCreated](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfAccountChange, 99, "Invite", statusSuccess)
	m.d.User = named(u.Name)
	return nil
}

func (m *ocsfEvent) userUpdated() error {
	u, err := decode[schemas.UserUpdated](m.ev)
	if err != nil {
		return err
	}
	m.d.set(ocsfUserAccessMgmt, 1, "Assign Privileges", statusSuccess)
	m.d.User = named(u.Name)
	m.d.Privileges = ocsfStrings{set: true, s: nonNil(u.Roles)}
	if len(u.Traits) > 0 {
		m.un.json("traits", u.Traits)
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
	m.un.json("data", data)
	return nil
}

// entityOf names the managed entity of a control (or cert.issued) event
// from its data at the current version.
func entityOf(typ string, data json.RawMessage) ocsfEntity {
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
	e := ocsfEntity{set: true, typ: kind}
	switch {
	case typ == schemas.TypeCertIssued:
		e.typ, e.uid, e.name, e.hasUID, e.hasName = "certificate", v.Serial, v.Subj, true, true
	case v.Name != "":
		e.name, e.hasName = v.Name, true
	case v.ID != "":
		e.uid, e.hasUID = v.ID, true
	case v.Hash != "":
		e.uid, e.hasUID = v.Hash, true
	case v.CAType != "":
		e.typ, e.name, e.hasName = "certificate_authority", v.CAType, true
	}
	return e
}

// queryUID is a query's uid in its session: "<session>/<n>".
func queryUID(session string, n uint64) string {
	var b [20]byte
	return session + "/" + string(strconv.AppendUint(b[:0], n, 10))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
