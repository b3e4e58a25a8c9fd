package format

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// OCSFVersion is the OCSF schema version the mapping follows.
const OCSFVersion = "1.3.0"

// OCSF classes and activities used.
const (
	ocsfAccountChange  = 3001
	ocsfAuthentication = 3002
	ocsfEntityMgmt     = 3004
	ocsfUserAccessMgmt = 3005
	ocsfDatastore      = 6005

	statusUnknown = 0
	statusSuccess = 1
	statusFailure = 2
)

var ocsfClass = map[int][3]string{
	ocsfAccountChange:  {"Account Change", "3", "Identity & Access Management"},
	ocsfAuthentication: {"Authentication", "3", "Identity & Access Management"},
	ocsfEntityMgmt:     {"Entity Management", "3", "Identity & Access Management"},
	ocsfUserAccessMgmt: {"User Access Management", "3", "Identity & Access Management"},
	ocsfDatastore:      {"Datastore Activity", "6", "Application Activity"},
}

// OCSF maps events to OCSF 1.3.0 classes (see the package doc).
type OCSF struct{}

// Name returns "ocsf".
func (OCSF) Name() string { return "ocsf" }

type ocsfDoc map[string]any

func (d ocsfDoc) set(class, activity int, activityName string, status int) {
	c := ocsfClass[class]
	d["class_uid"] = class
	d["class_name"] = c[0]
	cat := 3
	if c[1] == "6" {
		cat = 6
	}
	d["category_uid"] = cat
	d["category_name"] = c[2]
	d["activity_id"] = activity
	d["activity_name"] = activityName
	d["type_uid"] = class*100 + activity
	d["type_name"] = c[0] + ": " + activityName
	d["status_id"] = status
	d["status"] = map[int]string{statusUnknown: "Unknown", statusSuccess: "Success", statusFailure: "Failure"}[status]
}

// Format maps one event.
func (OCSF) Format(ev *eventlog.Event) ([]byte, error) {
	d := ocsfDoc{
		"time":        ev.Time.UnixMilli(),
		"severity_id": 1,
		"severity":    "Informational",
		"metadata": map[string]any{
			"version":    OCSFVersion,
			"uid":        ev.ID,
			"event_code": ev.Type,
			"log_name":   streamOf(ev),
			"product":    map[string]any{"name": "Tollgate", "vendor_name": "Tollgate", "uid": ev.Source},
		},
	}
	unmapped := map[string]any{"subject": ev.Subject, "source": ev.Source, "schema_version": ev.V}
	if ev.Seq != 0 {
		unmapped["chain"] = map[string]any{"seq": ev.Seq, "prev": ev.Prev, "hash": ev.Hash}
	}
	if ev.Actor != "" {
		d["actor"] = map[string]any{"user": map[string]any{"name": ev.Actor}}
	}
	db, user, session := auditParts(ev.Subject)
	if session != "" {
		d["session"] = map[string]any{"uid": session}
	}
	dbObj := func() map[string]any {
		return map[string]any{"name": db, "type": "Relational", "type_id": 1}
	}
	if err := ocsfBody(ev, d, unmapped, db, user, dbObj); err != nil {
		return nil, err
	}
	d["unmapped"] = unmapped
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return b, nil
}

func ocsfBody(ev *eventlog.Event, d ocsfDoc, un map[string]any, db, user string, dbObj func() map[string]any) error {
	userObj := func(name string) map[string]any { return map[string]any{"name": name} }
	switch ev.Type {
	case schemas.TypeQuery:
		var q schemas.Query
		if err := decode(ev, &q); err != nil {
			return err
		}
		d.set(ocsfDatastore, 4, "Query", statusUnknown)
		d["type_id"], d["type"] = 1, "Database"
		d["database"] = dbObj()
		d["dst_endpoint"] = map[string]any{"name": db}
		if user != "" {
			d["actor"] = map[string]any{"user": userObj(user)}
		}
		qi := map[string]any{"uid": fmt.Sprintf("%s/%d", q.SessionID, q.N), "query_string": q.Statement}
		if q.StatementName != "" {
			qi["name"] = q.StatementName
		}
		d["query_info"] = qi
		un["kind"] = q.Kind
		if len(q.Params) > 0 {
			un["params"] = q.Params
		}
		if q.Portal != "" {
			un["portal"] = q.Portal
		}
		if q.Truncated {
			un["truncated"] = true
			un["sha256"] = q.SHA256
		}
	case schemas.TypeQueryResult:
		var r schemas.QueryResult
		if err := decode(ev, &r); err != nil {
			return err
		}
		st := statusSuccess
		if r.Status == "error" {
			st = statusFailure
		}
		d.set(ocsfDatastore, 4, "Query", st)
		d["type_id"], d["type"] = 1, "Database"
		d["database"] = dbObj()
		d["dst_endpoint"] = map[string]any{"name": db}
		if user != "" {
			d["actor"] = map[string]any{"user": userObj(user)}
		}
		d["query_info"] = map[string]any{"uid": fmt.Sprintf("%s/%d", r.SessionID, r.N)}
		d["duration"] = r.DurationUS / 1000
		if r.SQLState != "" {
			d["status_code"] = r.SQLState
		}
		if r.Error != "" {
			d["status_detail"] = r.Error
		}
		un["rows"] = r.Rows
		un["command_tag"] = r.CommandTag
		un["result_status"] = r.Status
		un["duration_us"] = r.DurationUS
	case schemas.TypeSessionCancel:
		var c schemas.SessionCancel
		if err := decode(ev, &c); err != nil {
			return err
		}
		st := statusFailure
		if c.Matched && c.Forwarded {
			st = statusSuccess
		}
		d.set(ocsfDatastore, 99, "Cancel", st)
		d["type_id"], d["type"] = 1, "Database"
		d["database"] = dbObj()
		if ep := endpoint(c.ClientAddr); ep != nil {
			d["src_endpoint"] = ep
		}
		if c.Reason != "" {
			d["status_detail"] = c.Reason
		}
		un["matched"], un["forwarded"] = c.Matched, c.Forwarded
	case schemas.TypeAuthLogin:
		var a schemas.AuthLogin
		if err := decode(ev, &a); err != nil {
			return err
		}
		st := statusFailure
		if a.Success {
			st = statusSuccess
		}
		d.set(ocsfAuthentication, 1, "Logon", st)
		d["user"] = userObj(a.User)
		d["auth_protocol_id"], d["auth_protocol"] = 99, a.Method
		d["service"] = map[string]any{"name": "tollgate-control"}
		if ep := endpoint(a.RemoteAddr); ep != nil {
			d["src_endpoint"] = ep
		}
		if a.Reason != "" {
			d["status_detail"] = a.Reason
		}
	case schemas.TypeSessionStarted:
		var s schemas.SessionStarted
		if err := decode(ev, &s); err != nil {
			return err
		}
		d.set(ocsfAuthentication, 1, "Logon", statusSuccess)
		d["user"] = userObj(s.User)
		d["service"] = map[string]any{"name": s.Database}
		d["dst_endpoint"] = map[string]any{"name": s.Database, "agent_list": []any{map[string]any{"uid": s.AgentID}}}
		if ep := endpoint(s.ClientAddr); ep != nil {
			d["src_endpoint"] = ep
		}
		d["session"] = map[string]any{"uid": s.SessionID}
		un["db_user"], un["db_name"], un["protocol"] = s.DBUser, s.DBName, s.Protocol
		un["roles"], un["decided_by"], un["params"], un["cert_serial"] = s.Roles, s.DecidedBy, s.Params, s.CertSerial
	case schemas.TypeSessionRejected:
		var s schemas.SessionRejected
		if err := decode(ev, &s); err != nil {
			return err
		}
		d.set(ocsfAuthentication, 1, "Logon", statusFailure)
		d["user"] = userObj(s.User)
		d["service"] = map[string]any{"name": s.Database}
		if ep := endpoint(s.ClientAddr); ep != nil {
			d["src_endpoint"] = ep
		}
		d["session"] = map[string]any{"uid": s.SessionID}
		d["status_code"], d["status_detail"] = s.Code, s.Reason
		un["db_user"], un["db_name"], un["params"] = s.DBUser, s.DBName, s.Params
	case schemas.TypeSessionEnded:
		var s schemas.SessionEnded
		if err := decode(ev, &s); err != nil {
			return err
		}
		d.set(ocsfAuthentication, 2, "Logoff", statusSuccess)
		d["user"] = userObj(user)
		d["service"] = map[string]any{"name": db}
		d["session"] = map[string]any{"uid": s.SessionID}
		d["duration"] = s.DurationMS
		d["status_detail"] = s.Reason
		un["queries"], un["bytes_in"], un["bytes_out"], un["message"] = s.Queries, s.BytesIn, s.BytesOut, s.Message
	case schemas.TypeUserCreated, schemas.TypeUserDeleted, schemas.TypeUserPasswordSet, schemas.TypeUserInviteCreated:
		var u struct {
			Name  string   `json:"name"`
			Roles []string `json:"roles"`
			Via   string   `json:"via"`
		}
		if err := decode(ev, &u); err != nil {
			return err
		}
		switch ev.Type {
		case schemas.TypeUserCreated:
			d.set(ocsfAccountChange, 1, "Create", statusSuccess)
			un["roles"] = u.Roles
		case schemas.TypeUserDeleted:
			d.set(ocsfAccountChange, 6, "Delete", statusSuccess)
		case schemas.TypeUserPasswordSet:
			if u.Via == "reset" {
				d.set(ocsfAccountChange, 4, "Password Reset", statusSuccess)
			} else {
				d.set(ocsfAccountChange, 3, "Password Change", statusSuccess)
			}
		default:
			d.set(ocsfAccountChange, 99, "Invite", statusSuccess)
		}
		d["user"] = userObj(u.Name)
	case schemas.TypeUserUpdated:
		var u schemas.UserUpdated
		if err := decode(ev, &u); err != nil {
			return err
		}
		d.set(ocsfUserAccessMgmt, 1, "Assign Privileges", statusSuccess)
		d["user"] = userObj(u.Name)
		d["privileges"] = nonNil(u.Roles)
		if len(u.Traits) > 0 {
			un["traits"] = u.Traits
		}
	default:
		activity, name := 3, "Update"
		switch {
		case strings.HasSuffix(ev.Type, ".created"), strings.HasSuffix(ev.Type, ".registered"),
			strings.HasSuffix(ev.Type, ".joined"), ev.Type == schemas.TypeCertIssued:
			activity, name = 1, "Create"
		case strings.HasSuffix(ev.Type, ".deleted"), strings.HasSuffix(ev.Type, ".deregistered"):
			activity, name = 4, "Delete"
		}
		d.set(ocsfEntityMgmt, activity, name, statusSuccess)
		d["entity"] = entityOf(ev)
		un["data"] = json.RawMessage(ev.Data)
	}
	return nil
}

// entityOf names the managed entity of a control (or cert.issued) event.
func entityOf(ev *eventlog.Event) map[string]any {
	var v struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Hash   string `json:"hash"`
		CAType string `json:"ca_type"`
		Serial string `json:"serial"`
		Subj   string `json:"subject"`
	}
	_ = json.Unmarshal(ev.Data, &v)
	typ, _, _ := strings.Cut(ev.Type, ".")
	e := map[string]any{"type": typ}
	switch {
	case ev.Type == schemas.TypeCertIssued:
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
