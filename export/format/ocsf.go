package format

import (
	"fmt"
	"sync"

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

// set names the document's class, activity and status.
func (d *ocsfDoc) set(class, activity int, activityName string, status int) {
	c := ocsfClass[class]
	d.ClassUID, d.ClassName = class, c.name
	d.CategoryUID, d.CategoryName = c.category, c.categoryName
	d.ActivityID, d.ActivityName = activity, activityName
	d.TypeUID = class*100 + activity
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
func (f OCSF) Format(ev *eventlog.Event) ([]byte, error) {
	return f.Append(make([]byte, 0, docSize(ev)), ev)
}

// Append appends the mapping of ev to dst (dst unchanged on an error).
func (OCSF) Append(dst []byte, ev *eventlog.Event) ([]byte, error) {
	m := ocsfPool.Get().(*ocsfEvent)
	defer m.release()
	m.start(ev)
	if err := m.body(); err != nil {
		return dst, err
	}
	if m.un.err != nil {
		return dst, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, m.un.err)
	}
	return m.d.append(dst, &m.un), nil
}

// ocsfEvent is one event being mapped: its document, the fields OCSF has
// no place for (unmapped), and the database and user its audit subject
// names. Mappings reuse them through ocsfPool.
type ocsfEvent struct {
	ev       *eventlog.Event
	d        ocsfDoc
	un       ocsfUnmapped
	db, user string
}

var ocsfPool = sync.Pool{New: func() any { return new(ocsfEvent) }}

// maxPooledUnmapped bounds the unmapped buffer a pooled mapping keeps (a
// session's parameters can be large).
const maxPooledUnmapped = 64 << 10

// release returns m to the pool, keeping no reference to the event.
func (m *ocsfEvent) release() {
	m.ev, m.d, m.db, m.user = nil, ocsfDoc{}, "", ""
	m.un.reset()
	if cap(m.un.buf) > maxPooledUnmapped {
		m.un.buf = nil
	}
	ocsfPool.Put(m)
}

// start fills what every document has: time, severity, metadata, the
// envelope's unmapped fields, the actor and the session of the subject.
// The family builders (ocsffamilies.go) fill the rest.
func (m *ocsfEvent) start(ev *eventlog.Event) {
	m.ev = ev
	m.d = ocsfDoc{Time: ev.Time.UnixMilli(),
		Metadata: ocsfMetadata{UID: ev.ID, EventCode: ev.Type, LogName: streamOf(ev), ProductUID: ev.Source}}
	m.un.reset()
	m.un.str("subject", ev.Subject)
	m.un.str("source", ev.Source)
	m.un.int("schema_version", int64(ev.V))
	if ev.Seq != 0 {
		m.un.chain(ev.Seq, ev.Prev, ev.Hash)
	}
	if ev.Actor != "" {
		m.d.Actor = named(ev.Actor)
	}
	var session string
	m.db, m.user, session = auditParts(ev.Subject)
	if session != "" {
		m.d.Session = named(session)
	}
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
	case schemas.TypeQueryDenied, schemas.TypeQueryWouldDeny, schemas.TypeQueryFlagged:
		return m.queryPolicy()
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
