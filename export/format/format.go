package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// ErrUnknownFormat is returned by New for a format name it does not know.
var ErrUnknownFormat = errors.New("unknown export format")

// Formatter turns one event into one JSON document (no trailing newline).
// Append appends the document to dst and returns the extended slice, dst
// unchanged on an error; Format is Append to nil.
type Formatter interface {
	Name() string
	Format(ev *eventlog.Event) ([]byte, error)
	Append(dst []byte, ev *eventlog.Event) ([]byte, error)
}

// New returns the formatter named name: native (also for ""), ocsf, ecs,
// or slack, which says each event with text.
func New(name string, text Texter) (Formatter, error) {
	switch name {
	case "native", "":
		return Native{}, nil
	case "ocsf":
		return OCSF{}, nil
	case "ecs":
		return ECS{}, nil
	case "slack":
		if text == nil {
			return nil, ErrNoTexter
		}
		return Slack{Text: text}, nil
	}
	return nil, fmt.Errorf("%w %q (use native, ocsf, ecs or slack)", ErrUnknownFormat, name)
}

// Native is the envelope as stored, data included, byte for byte what the
// hash chain covers (no HTML escaping of "<", ">" and "&", which
// json.Marshal would add): it is not upcast, so the hash chain and
// checkpoints of an exported audit event verify (tollctl audit verify
// --from-file). A reader of native events decodes them with
// schemas.Decode, which upcasts.
type Native struct{}

// Name returns "native".
func (Native) Name() string { return "native" }

// Format encodes the envelope.
func (f Native) Format(ev *eventlog.Event) ([]byte, error) {
	return f.Append(make([]byte, 0, docSize(ev)), ev)
}

// docSize is a first guess at the size of ev's document, for Format to
// allocate it once: its data, its envelope and a mapping's own fields.
func docSize(ev *eventlog.Event) int {
	return len(ev.Data) + len(ev.ID) + len(ev.Subject) + len(ev.Source) + len(ev.Actor) + len(ev.Prev) + len(ev.Hash) + 512
}

// Append appends the envelope to dst (dst unchanged on an error): in the
// canonical form eventlog.AppendJSON writes, which is what an Encoder
// without HTML escaping writes for an event whose data is valid JSON and
// whose time has a four-digit year; anything else goes through that
// Encoder, for its exact output or error.
func (Native) Append(dst []byte, ev *eventlog.Event) ([]byte, error) {
	if !canonicalTime(ev.Time) || ev.Data != nil && len(ev.Data) == 0 {
		return nativeEncode(dst, ev)
	}
	data, err := eventlog.CompactData(ev.Data)
	if err != nil {
		return nativeEncode(dst, ev)
	}
	c := *ev
	c.Data = data
	return eventlog.AppendJSON(dst, &c, true), nil
}

// canonicalTime reports whether time.Time's MarshalJSON writes t as
// AppendFormat(RFC3339Nano) does: a year of four digits, a zone offset
// under 24 hours.
func canonicalTime(t time.Time) bool {
	_, off := t.Zone()
	y := t.Year()
	return y >= 0 && y <= 9999 && off > -24*3600 && off < 24*3600
}

// nativeEncode is Native through encoding/json.
func nativeEncode(dst []byte, ev *eventlog.Event) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return dst, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil // Encode appends a newline
}

// auditParts returns the database, user and session named by an audit
// subject (tollgate.audit.<db>.<user>.<session>.<type>), decoded.
func auditParts(subject string) (db, user, session string) {
	rest, ok := strings.CutPrefix(subject, eventlog.AuditPrefix+".")
	if !ok {
		return "", "", ""
	}
	var p [4]string
	for i := range 3 {
		if p[i], rest, ok = strings.Cut(rest, "."); !ok {
			return "", "", ""
		}
	}
	if strings.Contains(rest, ".") {
		return "", "", ""
	}
	return eventlog.DecodeToken(p[0]), eventlog.DecodeToken(p[1]), eventlog.DecodeToken(p[2])
}

// streamOf names the stream an event is from (the log_name, dataset), by
// its subject's prefix.
func streamOf(ev *eventlog.Event) string {
	if strings.HasPrefix(ev.Subject, eventlog.ControlPrefix) {
		return "control"
	}
	return "audit"
}

// decode returns ev's data as *T through schemas.DecodeAs, so an event
// written at an older schema version is upcast to the current one before
// it is mapped.
func decode[T any](ev *eventlog.Event) (*T, error) {
	v, err := schemas.DecodeAs[T](*ev)
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return v, nil
}

// currentData returns ev's data as JSON at the current schema version
// (schemas.Upcast), for the mappings that pass the data on as it is.
func currentData(ev *eventlog.Event) (json.RawMessage, error) {
	up, err := schemas.Upcast(*ev)
	if err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
	}
	return up.Data, nil
}

// endpoint is the OCSF endpoint of "ip:port" (or "[ip6]:port"): its ip,
// and its port when there is one; unset for no address.
func endpoint(addr string) ocsfEndpoint {
	if addr == "" {
		return ocsfEndpoint{}
	}
	host, port := addr, ""
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr, "]") {
		host, port = addr[:i], addr[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	e := ocsfEndpoint{set: true, ip: host}
	if port != "" {
		var n int
		if _, err := fmt.Sscanf(port, "%d", &n); err == nil {
			e.port, e.hasPort = n, true
		}
	}
	return e
}

// change is what a control (or cert.issued) event does to its entity, as
// its type's name says.
type change int

const (
	changeUpdate change = iota
	changeCreate
	changeDelete
)

func changeOf(typ string) change {
	switch {
	case strings.HasSuffix(typ, ".created"), strings.HasSuffix(typ, ".registered"),
		strings.HasSuffix(typ, ".joined"), typ == schemas.TypeCertIssued:
		return changeCreate
	case strings.HasSuffix(typ, ".deleted"), strings.HasSuffix(typ, ".deregistered"):
		return changeDelete
	}
	return changeUpdate
}

var (
	_ Formatter = Native{}
	_ Formatter = OCSF{}
	_ Formatter = ECS{}
)
