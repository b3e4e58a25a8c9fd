package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// ErrUnknownFormat is returned by New for a format name it does not know.
var ErrUnknownFormat = errors.New("unknown export format")

// Formatter turns one event into one JSON document (no trailing newline).
type Formatter interface {
	Name() string
	Format(ev *eventlog.Event) ([]byte, error)
}

// New returns the formatter named name: native (also for ""), ocsf or
// ecs.
func New(name string) (Formatter, error) {
	switch name {
	case "native", "":
		return Native{}, nil
	case "ocsf":
		return OCSF{}, nil
	case "ecs":
		return ECS{}, nil
	}
	return nil, fmt.Errorf("%w %q (use native, ocsf or ecs)", ErrUnknownFormat, name)
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
func (Native) Format(ev *eventlog.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("format %s %s: %w", ev.Type, ev.ID, err)
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
	p := strings.Split(rest, ".")
	if len(p) != 4 {
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

// endpoint is an OCSF endpoint of "ip:port" (or "[ip6]:port"): its ip,
// and its port when there is one; nil for no address.
func endpoint(addr string) map[string]any {
	if addr == "" {
		return nil
	}
	host, port := addr, ""
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr, "]") {
		host, port = addr[:i], addr[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	m := map[string]any{"ip": host}
	if port != "" {
		var n int
		if _, err := fmt.Sscanf(port, "%d", &n); err == nil {
			m["port"] = n
		}
	}
	return m
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
