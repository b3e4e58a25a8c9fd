package format

import (
	"strconv"

	"github.com/tollgate-db/tollgate/internal/jsonx"
)

// ocsfDoc is one OCSF event. It is written by hand (append), keys in
// sorted order and strings escaped as encoding/json writes them, so the
// output is what json.Marshal gave for the map-based first mapping (the
// golden files pin it) without reflection or an allocation per field.
// An optional object is written when its set field is true.
type ocsfDoc struct {
	ActivityID     int
	ActivityName   string
	Actor          ocsfName // actor.user.name
	AuthProtocol   string
	AuthProtocolID int
	CategoryName   string
	CategoryUID    int
	ClassName      string
	ClassUID       int
	Database       ocsfName // database.name (a relational database)
	DstEndpoint    ocsfDst
	Duration       ocsfInt
	Entity         ocsfEntity
	Metadata       ocsfMetadata
	Privileges     ocsfStrings
	QueryInfo      ocsfQueryInfo
	Service        ocsfName
	Session        ocsfName // session.uid
	SrcEndpoint    ocsfEndpoint
	Status         string
	StatusCode     string
	StatusDetail   string
	StatusID       int
	Time           int64
	Type           string
	TypeID         int
	TypeUID        int // type_name is "<class_name>: <activity_name>"
	User           ocsfName
}

// ocsfName is an optional object of one string field.
type ocsfName struct {
	set  bool
	name string
}

func named(s string) ocsfName { return ocsfName{set: true, name: s} }

// ocsfInt is an optional integer.
type ocsfInt struct {
	set bool
	n   int64
}

// ocsfStrings is an optional array of strings (set with nil: null).
type ocsfStrings struct {
	set bool
	s   []string
}

type ocsfMetadata struct {
	EventCode  string
	LogName    string
	ProductUID string
	UID        string
}

type ocsfQueryInfo struct {
	set         bool
	Name        string
	QueryString string
	UID         string
}

// ocsfDst is the destination endpoint: a database by name, with the agent
// that serves it when known.
type ocsfDst struct {
	set   bool
	name  string
	agent *string // agent_list: [{uid}]
}

// ocsfEndpoint is a source endpoint: its ip, and its port when there is one.
type ocsfEndpoint struct {
	set     bool
	ip      string
	port    int
	hasPort bool
}

// ocsfEntity is the managed entity: its type, and its name and uid where
// its event has them.
type ocsfEntity struct {
	set, hasName, hasUID bool
	typ, name, uid       string
}

// append writes the document, un as its unmapped object.
func (d *ocsfDoc) append(b []byte, un *ocsfUnmapped) []byte {
	b = append(b, `{"activity_id":`...)
	b = strconv.AppendInt(b, int64(d.ActivityID), 10)
	b = appendField(b, "activity_name", d.ActivityName)
	if d.Actor.set {
		b = append(b, `,"actor":{"user":{"name":`...)
		b = append(jsonx.AppendString(b, d.Actor.name, true), "}}"...)
	}
	if d.AuthProtocol != "" {
		b = appendField(b, "auth_protocol", d.AuthProtocol)
	}
	if d.AuthProtocolID != 0 {
		b = appendIntField(b, "auth_protocol_id", int64(d.AuthProtocolID))
	}
	b = appendField(b, "category_name", d.CategoryName)
	b = appendIntField(b, "category_uid", int64(d.CategoryUID))
	b = appendField(b, "class_name", d.ClassName)
	b = appendIntField(b, "class_uid", int64(d.ClassUID))
	if d.Database.set {
		b = append(b, `,"database":{"name":`...)
		b = append(jsonx.AppendString(b, d.Database.name, true), `,"type":"Relational","type_id":1}`...)
	}
	b = d.DstEndpoint.append(b)
	if d.Duration.set {
		b = appendIntField(b, "duration", d.Duration.n)
	}
	b = d.Entity.append(b)
	b = d.Metadata.append(b)
	if d.Privileges.set {
		b = appendStrings(append(b, `,"privileges":`...), d.Privileges.s)
	}
	b = d.QueryInfo.append(b)
	b = appendName(b, "service", "name", d.Service)
	b = appendName(b, "session", "uid", d.Session)
	b = append(b, `,"severity":"Informational","severity_id":1`...)
	b = d.SrcEndpoint.append(b)
	b = appendField(b, "status", d.Status)
	if d.StatusCode != "" {
		b = appendField(b, "status_code", d.StatusCode)
	}
	if d.StatusDetail != "" {
		b = appendField(b, "status_detail", d.StatusDetail)
	}
	b = appendIntField(b, "status_id", int64(d.StatusID))
	b = appendIntField(b, "time", d.Time)
	if d.Type != "" {
		b = appendField(b, "type", d.Type)
	}
	if d.TypeID != 0 {
		b = appendIntField(b, "type_id", int64(d.TypeID))
	}
	// The class and activity names are this package's constants, plain
	// text with nothing to escape.
	b = append(append(append(b, `,"type_name":`...), '"'), d.ClassName...)
	b = append(append(b, ": "...), d.ActivityName...)
	b = append(b, '"')
	b = appendIntField(b, "type_uid", int64(d.TypeUID))
	b = un.append(append(b, `,"unmapped":`...))
	b = appendName(b, "user", "name", d.User)
	return append(b, '}')
}

func (m *ocsfMetadata) append(b []byte) []byte {
	b = append(b, `,"metadata":{"event_code":`...)
	b = jsonx.AppendString(b, m.EventCode, true)
	b = appendField(b, "log_name", m.LogName)
	b = append(b, `,"product":{"name":"Tollgate","uid":`...)
	b = jsonx.AppendString(b, m.ProductUID, true)
	b = append(b, `,"vendor_name":"Tollgate"}`...)
	b = appendField(b, "uid", m.UID)
	return append(b, `,"version":"`+OCSFVersion+`"}`...)
}

func (q *ocsfQueryInfo) append(b []byte) []byte {
	if !q.set {
		return b
	}
	b = append(b, `,"query_info":{`...)
	if q.Name != "" {
		b = append(jsonx.AppendString(append(b, `"name":`...), q.Name, true), ',')
	}
	if q.QueryString != "" {
		b = append(jsonx.AppendString(append(b, `"query_string":`...), q.QueryString, true), ',')
	}
	b = jsonx.AppendString(append(b, `"uid":`...), q.UID, true)
	return append(b, '}')
}

func (e *ocsfDst) append(b []byte) []byte {
	if !e.set {
		return b
	}
	b = append(b, `,"dst_endpoint":{`...)
	if e.agent != nil {
		b = append(b, `"agent_list":[{"uid":`...)
		b = append(jsonx.AppendString(b, *e.agent, true), "}],"...)
	}
	b = jsonx.AppendString(append(b, `"name":`...), e.name, true)
	return append(b, '}')
}

func (e *ocsfEndpoint) append(b []byte) []byte {
	if !e.set {
		return b
	}
	b = jsonx.AppendString(append(b, `,"src_endpoint":{"ip":`...), e.ip, true)
	if e.hasPort {
		b = strconv.AppendInt(append(b, `,"port":`...), int64(e.port), 10)
	}
	return append(b, '}')
}

func (e *ocsfEntity) append(b []byte) []byte {
	if !e.set {
		return b
	}
	b = append(b, `,"entity":{`...)
	if e.hasName {
		b = append(jsonx.AppendString(append(b, `"name":`...), e.name, true), ',')
	}
	b = jsonx.AppendString(append(b, `"type":`...), e.typ, true)
	if e.hasUID {
		b = jsonx.AppendString(append(b, `,"uid":`...), e.uid, true)
	}
	return append(b, '}')
}

// appendField appends `,"key":` and s as a JSON string; key is plain.
func appendField(b []byte, key, s string) []byte {
	b = append(append(append(b, `,"`...), key...), `":`...)
	return jsonx.AppendString(b, s, true)
}

func appendIntField(b []byte, key string, n int64) []byte {
	b = append(append(append(b, `,"`...), key...), `":`...)
	return strconv.AppendInt(b, n, 10)
}

// appendName appends `,"key":{"field":name}` when n is set.
func appendName(b []byte, key, field string, n ocsfName) []byte {
	if !n.set {
		return b
	}
	b = append(append(append(b, `,"`...), key...), `":{"`...)
	b = append(append(b, field...), `":`...)
	return append(jsonx.AppendString(b, n.name, true), '}')
}

// appendStrings appends s as a JSON array, nil as null (as json.Marshal).
func appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, v, true)
	}
	return append(b, ']')
}
