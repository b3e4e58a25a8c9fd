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

// ocsfDoc is one OCSF event; fields in JSON-name order so that the output
// is sorted like a map's.
type ocsfDoc struct {
	ActivityID     int            `json:"activity_id"`
	ActivityName   string         `json:"activity_name"`
	Actor          any            `json:"actor,omitempty"`
	AuthProtocol   string         `json:"auth_protocol,omitempty"`
	AuthProtocolID int            `json:"auth_protocol_id,omitempty"`
	CategoryName   string         `json:"category_name"`
	CategoryUID    int            `json:"category_uid"`
	ClassName      string         `json:"class_name"`
	ClassUID       int            `json:"class_uid"`
	Database       any            `json:"database,omitempty"`
	DstEndpoint    any            `json:"dst_endpoint,omitempty"`
	Duration       *int64         `json:"duration,omitempty"`
	Entity         any            `json:"entity,omitempty"`
	Metadata       ocsfMetadata   `json:"metadata"`
	Privileges     any            `json:"privileges,omitempty"`
	QueryInfo      *ocsfQueryInfo `json:"query_info,omitempty"`
	Service        any            `json:"service,omitempty"`
	Session        any            `json:"session,omitempty"`
	Severity       string         `json:"severity"`
	SeverityID     int            `json:"severity_id"`
	SrcEndpoint    any            `json:"src_endpoint,omitempty"`
	Status         string         `json:"status"`
	StatusCode     string         `json:"status_code,omitempty"`
	StatusDetail   string         `json:"status_detail,omitempty"`
	StatusID       int            `json:"status_id"`
	Time           int64          `json:"time"`
	Type           string         `json:"type,omitempty"`
	TypeID         int            `json:"type_id,omitempty"`
	TypeName       string         `json:"type_name"`
	TypeUID        int            `json:"type_uid"`
	Unmapped       map[string]any `json:"unmapped"`
	User           any            `json:"user,omitempty"`
}

type ocsfMetadata struct {
	EventCode string      `json:"event_code"`
	LogName   string      `json:"log_name"`
	Product   ocsfProduct `json:"product"`
	UID       string      `json:"uid"`
	Version   string      `json:"version"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	UID        string `json:"uid"`
	VendorName string `json:"vendor_name"`
}

type ocsfQueryInfo struct {
	Name        string `json:"name,omitempty"`
	QueryString string `json:"query_string,omitempty"`
	UID         string `json:"uid"`
}

type ocsfUser struct {
	Name string `json:"name"`
}

type ocsfActor struct {
	User ocsfUser `json:"user"`
}

type ocsfDatabase struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

func (d *ocsfDoc) set(class, activity int, activityName string, status int) {
	c := ocsfClass[class]
	d.ClassUID, d.ClassName = class, c[0]
	d.CategoryUID, d.CategoryName = 3, c[2]
	if c[1] == "6" {
		d.CategoryUID = 6
	}
	d.ActivityID, d.ActivityName = activity, activityName
	d.TypeUID, d.TypeName = class*100+activity, c[0]+": "+activityName
	d.StatusID = status
	switch status {
	case statusSuccess:
		d.Status = "Success"
	case statusFailure:
		d.Status = "Failure"
	default:
		d.Status = "Unknown"
	}
}

// Format maps one event.
func (OCSF) Format(ev *eventlog.Event) ([]byte, error) {
	d := &ocsfDoc{
		Time:       ev.Time.UnixMilli(),
		SeverityID: 1,
		Severity:   "Informational",
		Metadata: ocsfMetadata{Version: OCSFVersion, UID: ev.ID, EventCode: ev.Type, LogName: streamOf(ev),
			Product: ocsfProduct{Name: "Tollgate", VendorName: "Tollgate", UID: ev.Source}},
	}
	unmapped := map[string]any{"subject": ev.Subject, "source": ev.Source, "schema_version": ev.V}
	if ev.Seq != 0 {
		unmapped["chain"] = map[string]any{"seq": ev.Seq, "prev": ev.Prev, "hash": ev.Hash}
	}
	if ev.Actor != "" {
		d.Actor = &ocsfActor{User: ocsfUser{Name: ev.Actor}}
	}
	db, user, session := auditParts(ev.Subject)
	if session != "" {
		d.Session = map[string]any{"uid": session}
	}
	dbObj := func() *ocsfDatabase {
		return &ocsfDatabase{Name: db, Type: "Relational", TypeID: 1}
	}
	if err := ocsfBody(ev, d, unmapped, db, user, dbObj); err != nil {
		return nil, err
	}
	d.Unmapped = unmapped
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return b, nil
}

func ocsfBody(ev *eventlog.Event, d *ocsfDoc, un map[string]any, db, user string, dbObj func() *ocsfDatabase) error {
	userObj := func(name string) map[string]any { return map[string]any{"name": name} }
	switch ev.Type {
	case schemas.TypeQuery:
		q, err := decode[schemas.Query](ev)
		if err != nil {
			return err
		}
		d.set(ocsfDatastore, 4, "Query", statusUnknown)
		d.TypeID, d.Type = 1, "Database"
		d.Database = dbObj()
		d.DstEndpoint = map[string]any{"name": db}
		if user != "" {
			d.Actor = &ocsfActor{User: ocsfUser{Name: user}}
		}
		d.QueryInfo = &ocsfQueryInfo{UID: fmt.Sprintf("%s/%d", q.SessionID, q.N), QueryString: q.Statement, Name: q.StatementName}
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
		r, err := decode[schemas.QueryResult](ev)
		if err != nil {
			return err
		}
		st := statusSuccess
		if r.Status == schemas.ResultError {
			st = statusFailure
		}
		d.set(ocsfDatastore, 4, "Query", st)
		d.TypeID, d.Type = 1, "Database"
		d.Database = dbObj()
		d.DstEndpoint = map[string]any{"name": db}
		if user != "" {
			d.Actor = &ocsfActor{User: ocsfUser{Name: user}}
		}
		d.QueryInfo = &ocsfQueryInfo{UID: fmt.Sprintf("%s/%d", r.SessionID, r.N)}
		ms := r.DurationUS / 1000
		d.Duration = &ms
		if r.SQLState != "" {
			d.StatusCode = r.SQLState
		}
		if r.Error != "" {
			d.StatusDetail = r.Error
		}
		un["rows"] = r.Rows
		un["command_tag"] = r.CommandTag
		un["result_status"] = r.Status
		un["duration_us"] = r.DurationUS
	case schemas.TypeSessionCancel:
		c, err := decode[schemas.SessionCancel](ev)
		if err != nil {
			return err
		}
		st := statusFailure
		if c.Matched && c.Forwarded {
			st = statusSuccess
		}
		d.set(ocsfDatastore, 99, "Cancel", st)
		d.TypeID, d.Type = 1, "Database"
		d.Database = dbObj()
		if ep := endpoint(c.ClientAddr); ep != nil {
			d.SrcEndpoint = ep
		}
		if c.Reason != "" {
			d.StatusDetail = c.Reason
		}
		un["matched"], un["forwarded"] = c.Matched, c.Forwarded
	case schemas.TypeAuthLogin:
		a, err := decode[schemas.AuthLogin](ev)
		if err != nil {
			return err
		}
		st := statusFailure
		if a.Success {
			st = statusSuccess
		}
		d.set(ocsfAuthentication, 1, "Logon", st)
		d.User = userObj(a.User)
		d.AuthProtocolID, d.AuthProtocol = 99, a.Method
		d.Service = map[string]any{"name": "tollgate-control"}
		if ep := endpoint(a.RemoteAddr); ep != nil {
			d.SrcEndpoint = ep
		}
		if a.Reason != "" {
			d.StatusDetail = a.Reason
		}
	case schemas.TypeSessionStarted:
		s, err := decode[schemas.SessionStarted](ev)
		if err != nil {
			return err
		}
		d.set(ocsfAuthentication, 1, "Logon", statusSuccess)
		d.User = userObj(s.User)
		d.Service = map[string]any{"name": s.Database}
		d.DstEndpoint = map[string]any{"name": s.Database, "agent_list": []any{map[string]any{"uid": s.AgentID}}}
		if ep := endpoint(s.ClientAddr); ep != nil {
			d.SrcEndpoint = ep
		}
		d.Session = map[string]any{"uid": s.SessionID}
		un["db_user"], un["db_name"], un["protocol"] = s.DBUser, s.DBName, s.Protocol
		un["roles"], un["decided_by"], un["params"], un["cert_serial"] = s.Roles, s.DecidedBy, s.Params, s.CertSerial
	case schemas.TypeSessionRejected:
		s, err := decode[schemas.SessionRejected](ev)
		if err != nil {
			return err
		}
		d.set(ocsfAuthentication, 1, "Logon", statusFailure)
		d.User = userObj(s.User)
		d.Service = map[string]any{"name": s.Database}
		if ep := endpoint(s.ClientAddr); ep != nil {
			d.SrcEndpoint = ep
		}
		d.Session = map[string]any{"uid": s.SessionID}
		d.StatusCode, d.StatusDetail = s.Code, s.Reason
		un["db_user"], un["db_name"], un["params"] = s.DBUser, s.DBName, s.Params
	case schemas.TypeSessionEnded:
		s, err := decode[schemas.SessionEnded](ev)
		if err != nil {
			return err
		}
		d.set(ocsfAuthentication, 2, "Logoff", statusSuccess)
		d.User = userObj(user)
		d.Service = map[string]any{"name": db}
		d.Session = map[string]any{"uid": s.SessionID}
		d.Duration = &s.DurationMS
		d.StatusDetail = s.Reason
		un["queries"], un["bytes_in"], un["bytes_out"], un["message"] = s.Queries, s.BytesIn, s.BytesOut, s.Message
	case schemas.TypeUserCreated:
		u, err := decode[schemas.UserCreated](ev)
		if err != nil {
			return err
		}
		d.set(ocsfAccountChange, 1, "Create", statusSuccess)
		un["roles"] = u.Roles
		d.User = userObj(u.Name)
	case schemas.TypeUserDeleted:
		u, err := decode[schemas.UserDeleted](ev)
		if err != nil {
			return err
		}
		d.set(ocsfAccountChange, 6, "Delete", statusSuccess)
		d.User = userObj(u.Name)
	case schemas.TypeUserPasswordSet:
		u, err := decode[schemas.UserPasswordSet](ev)
		if err != nil {
			return err
		}
		if u.Via == "reset" {
			d.set(ocsfAccountChange, 4, "Password Reset", statusSuccess)
		} else {
			d.set(ocsfAccountChange, 3, "Password Change", statusSuccess)
		}
		d.User = userObj(u.Name)
	case schemas.TypeUserInviteCreated:
		u, err := decode[schemas.UserInviteCreated](ev)
		if err != nil {
			return err
		}
		d.set(ocsfAccountChange, 99, "Invite", statusSuccess)
		d.User = userObj(u.Name)
	case schemas.TypeUserUpdated:
		u, err := decode[schemas.UserUpdated](ev)
		if err != nil {
			return err
		}
		d.set(ocsfUserAccessMgmt, 1, "Assign Privileges", statusSuccess)
		d.User = userObj(u.Name)
		d.Privileges = nonNil(u.Roles)
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
		data, err := currentData(ev)
		if err != nil {
			return err
		}
		d.set(ocsfEntityMgmt, activity, name, statusSuccess)
		d.Entity = entityOf(ev.Type, data)
		un["data"] = data
	}
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
