package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-db/tollgate/eventlog"
)

// ErrUnknownFormat is returned by New for a format name it does not know.
var ErrUnknownFormat = errors.New("unknown export format")

// Formatter turns one event into one JSON document (no trailing newline).
type Formatter interface {
	Name() string
	Format(ev *eventlog.Event) ([]byte, error)
}

// New returns the formatter named name: native, ocsf or ecs.
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

// Native is the envelope as stored: data byte for byte (no HTML
// escaping of "<", ">" and "&", which json.Marshal would add), so the
// hash chain and checkpoints of an exported audit event verify
// (tollctl audit verify --from-file).
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

// streamOf says which stream an event type belongs to by its subject.
func streamOf(ev *eventlog.Event) string {
	if strings.HasPrefix(ev.Subject, eventlog.ControlPrefix) {
		return "control"
	}
	return "audit"
}

func decode(ev *eventlog.Event, v any) error {
	if len(ev.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(ev.Data, v); err != nil {
		return fmt.Errorf("decode %s %s data: %w", ev.Type, ev.ID, err)
	}
	return nil
}

// hostOf splits "ip:port" into its parts, keeping a bare address as is.
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
