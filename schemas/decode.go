package schemas

import (
	"encoding/json"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/tollgate-db/tollgate/eventlog"
)

// UpcastFunc turns the data of one version of an event type into the data of
// the next version. It must be pure: no clock, no I/O.
type UpcastFunc func(data json.RawMessage) (json.RawMessage, error)

// Upcaster upgrades the data of Type from version From to From+1.
type Upcaster struct {
	Type string
	From int
	Up   UpcastFunc
}

// Decode returns the data of ev as a pointer to the Go type of the current
// version of ev.Type (e.g. *UserCreated), upcasting data written at an older
// version through the registered upcasters. Unknown fields are ignored, so a
// reader decodes events carrying optional fields it does not know yet.
// Decode does not validate; use a Validator for that.
func Decode(ev eventlog.Event) (any, error) {
	return defaultRegistry().decode(ev, false)
}

// DecodeOwned is Decode for data nobody modifies afterwards: strings of
// the result may alias ev.Data instead of being copied from it, so
// whatever keeps one of them keeps ev.Data's buffer alive. The caller must
// not modify ev.Data later, nor let anyone else do so (records an
// eventlog.Reader delivers are never modified).
func DecodeOwned(ev eventlog.Event) (any, error) {
	return defaultRegistry().decode(ev, true)
}

func (r *registry) decode(ev eventlog.Event, owned bool) (any, error) {
	in, ok := r.byType[ev.Type]
	if !ok {
		return nil, fmt.Errorf("decode %q v%d: %w", ev.Type, ev.V, ErrUnknownType)
	}
	if ev.V < 1 || ev.V > in.Version {
		return nil, fmt.Errorf("decode %s v%d: %w (this binary knows v1 to v%d; upgrade it to read newer events)",
			ev.Type, ev.V, ErrUnknownVersion, in.Version)
	}
	data := ev.Data
	for v := ev.V; v < in.Version; v++ {
		up, ok := r.upcasters[upcastKey{ev.Type, v}]
		if !ok {
			return nil, fmt.Errorf("decode %s v%d: no upcaster from v%d: %w", ev.Type, ev.V, v, ErrUnknownVersion)
		}
		next, err := up.Up(data)
		if err != nil {
			return nil, fmt.Errorf("decode %s v%d: upcast v%d to v%d: %w", ev.Type, ev.V, v, v+1, err)
		}
		data = next
	}
	out := in.New()
	if fastUnmarshal(data, dataString(data, owned), out) {
		return out, nil
	}
	out = in.New()
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", ev.Type, ev.V, err)
	}
	return out, nil
}

// dataString holds the bytes of data for the fast decoder: data itself when
// alias is set (the caller vouches that nobody modifies it), else a copy.
func dataString(data []byte, alias bool) string {
	if alias {
		return unsafe.String(unsafe.SliceData(data), len(data))
	}
	return string(data)
}

// Marshal returns the JSON of data for an event of type typ and the version
// to stamp on the event (the current one). data must be the Go type of typ's
// current version, as a value or a pointer; anything else is an error, which
// catches an event built with the wrong type.
//
//	raw, v, err := schemas.Marshal(schemas.TypeUserDeleted, schemas.UserDeleted{Name: "alice"})
func Marshal(typ string, data any) (json.RawMessage, int, error) {
	return defaultRegistry().marshal(typ, data)
}

func (r *registry) marshal(typ string, data any) (json.RawMessage, int, error) {
	in, ok := r.byType[typ]
	if !ok {
		return nil, 0, fmt.Errorf("marshal %q: %w", typ, ErrUnknownType)
	}
	want := reflect.TypeOf(in.New()) // a pointer type
	got := reflect.TypeOf(data)
	if got != want && got != want.Elem() {
		return nil, 0, fmt.Errorf("marshal %s: data is %v, want %v", typ, got, want.Elem())
	}
	if got == want && reflect.ValueOf(data).IsNil() {
		return nil, 0, fmt.Errorf("marshal %s: data is a nil %v", typ, got)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, 0, fmt.Errorf("marshal %s: %w", typ, err)
	}
	return raw, in.Version, nil
}

// DecodeAs is Decode for a caller that knows the type: the data of ev,
// upcast to the current version, as *T (e.g. DecodeAs[SessionEnded]). It
// fails when T is not the Go type of ev.Type's current version.
func DecodeAs[T any](ev eventlog.Event) (*T, error) {
	v, err := defaultRegistry().decode(ev, false)
	if err != nil {
		return nil, err
	}
	t, ok := v.(*T)
	if !ok {
		return nil, fmt.Errorf("decode %s v%d: the data is %T, not %T", ev.Type, ev.V, v, t)
	}
	return t, nil
}

// Upcast returns ev with its data at the current version of ev.Type (V
// set to it), for consumers that read the data as JSON rather than as a Go
// type (e.g. an export that passes it on). Data already current is kept
// byte for byte; older data goes through Decode and is marshalled again.
// Note that the hash chain covers the stored form: verify that, not this.
func Upcast(ev eventlog.Event) (eventlog.Event, error) {
	return defaultRegistry().upcast(ev)
}

func (r *registry) upcast(ev eventlog.Event) (eventlog.Event, error) {
	v, err := r.decode(ev, false)
	if err != nil {
		return ev, err
	}
	cur := r.byType[ev.Type].Version
	if ev.V == cur {
		return ev, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return ev, fmt.Errorf("upcast %s v%d: %w", ev.Type, ev.V, err)
	}
	ev.V, ev.Data = cur, raw
	return ev, nil
}
