package format

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// OCSFVersion is the OCSF schema version the mapping follows.
const OCSFVersion = "1.3.0"

// OCSF classes and the status ids used.
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

// ocsfClassInfo is what a document says of its class: its name and its
// category.
type ocsfClassInfo struct {
	name         string
	category     int
	categoryName string
}

var ocsfClass = map[int]ocsfClassInfo{
	ocsfAccountChange:  {"Account Change", 3, "Identity & Access Management"},
	ocsfAuthentication: {"Authentication", 3, "Identity & Access Management"},
	ocsfEntityMgmt:     {"Entity Management", 3, "Identity & Access Management"},
	ocsfUserAccessMgmt: {"User Access Management", 3, "Identity & Access Management"},
	ocsfDatastore:      {"Datastore Activity", 6, "Application Activity"},
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

// set names the document's class, activity and status.
func (d *ocsfDoc) set(class, activity int, activityName string, status int) {
	c := ocsfClass[class]
	d.ClassUID, d.ClassName = class, c.name
	d.CategoryUID, d.CategoryName = c.category, c.categoryName
	d.ActivityID, d.ActivityName = activity, activityName
	d.TypeUID, d.TypeName = class*100+activity, c.name+": "+activityName
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
	m := newOCSFEvent(ev)
	if err := m.body(); err != nil {
		return nil, err
	}
	m.d.Unmapped = m.un
	b, err := json.Marshal(m.d)
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return b, nil
}

// ocsfEvent is one event being mapped: its document, the fields OCSF has
// no place for (unmapped), and the database and user its audit subject
// names.
type ocsfEvent struct {
	ev       *eventlog.Event
	d        *ocsfDoc
	un       map[string]any
	db, user string
}

// newOCSFEvent fills what every document has: time, severity, metadata,
// the envelope's unmapped fields, the actor and the session of the
// subject. The family builders (ocsffamilies.go) fill the rest.
func newOCSFEvent(ev *eventlog.Event) *ocsfEvent {
	d := &ocsfDoc{
		Time:       ev.Time.UnixMilli(),
		SeverityID: 1,
		Severity:   "Informational",
		Metadata: ocsfMetadata{Version: OCSFVersion, UID: ev.ID, EventCode: ev.Type, LogName: streamOf(ev),
			Product: ocsfProduct{Name: "Tollgate", VendorName: "Tollgate", UID: ev.Source}},
	}
	un := map[string]any{"subject": ev.Subject, "source": ev.Source, "schema_version": ev.V}
	if ev.Seq != 0 {
		un["chain"] = map[string]any{"seq": ev.Seq, "prev": ev.Prev, "hash": ev.Hash}
	}
	if ev.Actor != "" {
		d.Actor = &ocsfActor{User: ocsfUser{Name: ev.Actor}}
	}
	db, user, session := auditParts(ev.Subject)
	if session != "" {
		d.Session = map[string]any{"uid": session}
	}
	return &ocsfEvent{ev: ev, d: d, un: un, db: db, user: user}
}

// body maps the event's data with the builder of its family: datastore
// activity (queries, cancels), authentication (logins, sessions), account
// change and user access (users), entity management (the rest).
func (m *ocsfEvent) body() error {
	switch m.ev.Type {
	case schemas.TypeQuery:
		return m.query()
	case schemas.TypeQueryResult:
		return m.queryResult()
	case schemas.TypeSessionCancel:
		return m.cancel()
	case schemas.TypeAuthLogin:
		return m.login()
	case schemas.TypeSessionStarted:
		return m.sessionStarted()
	case schemas.TypeSessionRejected:
		return m.sessionRejected()
	case schemas.TypeSessionEnded:
		return m.sessionEnded()
	case schemas.TypeUserCreated:
		return m.userCreated()
	case schemas.TypeUserDeleted:
		return m.userDeleted()
	case schemas.TypeUserPasswordSet:
		return m.passwordSet()
	case schemas.TypeUserInviteCreated:
		return m.inviteCreated()
	case schemas.TypeUserUpdated:
		return m.userUpdated()
	}
	return m.entity()
}
