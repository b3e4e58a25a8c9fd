package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// This file is the worked example of docs/SCHEMAS.md: session.ended moves to
// v2, recording its duration in microseconds (duration_us) instead of
// milliseconds (duration_ms). A renamed, re-scaled required field is not an
// additive change, so it needs a new version, a v2 schema file and a v1→v2
// upcaster. The change lives in a test registry (the real catalogue stays at
// v1) but runs through the real validator and decode code.

// sessionEndedV2 is what SessionEnded would become.
type sessionEndedV2 struct {
	SessionID  string `json:"session_id"`
	Reason     string `json:"reason"`
	Message    string `json:"message,omitempty"`
	DurationUS int64  `json:"duration_us"`
	Queries    uint64 `json:"queries"`
	BytesIn    int64  `json:"bytes_in"`
	BytesOut   int64  `json:"bytes_out"`
}

// sessionEndedV1toV2 is the upcaster: pure, data in, data out. It keeps
// every other field as is, so fields added to v1 later still flow through.
func sessionEndedV1toV2(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	var ms int64
	if raw, ok := m["duration_ms"]; ok {
		if err := json.Unmarshal(raw, &ms); err != nil {
			return nil, errors.New("duration_ms: not an integer")
		}
	}
	delete(m, "duration_ms")
	m["duration_us"], _ = json.Marshal(ms * 1000)
	return json.Marshal(m)
}

// upcastRegistry is the catalogue with session.ended at v2. Its schema files
// are the embedded v1 ones plus testdata/upcast/v2/audit/session.ended.schema.json.
func upcastRegistry(t *testing.T, ups []Upcaster) *registry {
	t.Helper()
	fsys := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS(), path)
		fsys[path] = &fstest.MapFile{Data: b}
		return err
	}))
	v2 := SchemaPath(StreamAudit, TypeSessionEnded, 2)
	b, err := os.ReadFile(filepath.Join("testdata", "upcast", filepath.FromSlash(v2)))
	require.NoError(t, err)
	fsys[v2] = &fstest.MapFile{Data: b}

	infos := make([]Info, 0, len(catalogue))
	for _, in := range catalogue {
		if in.Type == TypeSessionEnded {
			in.Version = 2
			in.New = func() any { return new(sessionEndedV2) }
		}
		infos = append(infos, in)
	}
	return newRegistry(fsys, infos, ups)
}

var sessionEndedUp = Upcaster{Type: TypeSessionEnded, From: 1, Up: sessionEndedV1toV2}

func TestUpcastSessionEnded(t *testing.T) {
	t.Parallel()
	reg := upcastRegistry(t, []Upcaster{sessionEndedUp})
	v, err := newValidator(reg)
	require.NoError(t, err)

	// An old event (v1, as written by an older producer) still validates
	// against its own version's schema, and decodes to the current type.
	old := sample(t, TypeSessionEnded)
	require.Equal(t, 1, old.V)
	require.NoError(t, v.Validate(&old))
	got, err := reg.decode(old, false)
	require.NoError(t, err)
	require.Equal(t, &sessionEndedV2{
		SessionID: "01JQ8ZD0A1B2C3D4E5F6G7H8J9", Reason: EndClient, Message: "client sent Terminate",
		DurationUS: 93_512_000, Queries: 17, BytesIn: 5120, BytesOut: 88213,
	}, got)

	// Producers write the newest version.
	raw, ver, err := reg.marshal(TypeSessionEnded, got)
	require.NoError(t, err)
	require.Equal(t, 2, ver)
	cur := old
	cur.V, cur.Data = ver, raw
	require.NoError(t, v.Validate(&cur))
	again, err := reg.decode(cur, false)
	require.NoError(t, err)
	require.Equal(t, got, again)

	// v1 data stamped v2 is refused, naming the stray field.
	wrong := old
	wrong.V = 2
	err = v.Validate(&wrong)
	var ve *ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "/data/duration_ms", ve.Field)

	// A version from the future is refused by both.
	future := cur
	future.V = 3
	require.ErrorIs(t, v.Validate(&future), ErrUnknownVersion)
	_, err = reg.decode(future, false)
	require.ErrorIs(t, err, ErrUnknownVersion)
}

func TestUpcastFailures(t *testing.T) {
	t.Parallel()
	old := sample(t, TypeSessionEnded)

	// A version bump without its upcaster cannot decode old events.
	_, err := upcastRegistry(t, nil).decode(old, false)
	require.ErrorIs(t, err, ErrUnknownVersion)
	require.ErrorContains(t, err, "no upcaster from v1")

	// An upcaster's error is reported with the step.
	bad := old
	bad.Data = bytes.Replace(old.Data, []byte(`"duration_ms": 93512`), []byte(`"duration_ms": "long"`), 1)
	require.NotEqual(t, old.Data, bad.Data)
	_, err = upcastRegistry(t, []Upcaster{sessionEndedUp}).decode(bad, false)
	require.ErrorContains(t, err, "decode session.ended v1: upcast v1 to v2: duration_ms: not an integer")

	// Without the v2 schema file, the validator refuses to start.
	reg := upcastRegistry(t, []Upcaster{sessionEndedUp})
	delete(reg.fsys.(fstest.MapFS), SchemaPath(StreamAudit, TypeSessionEnded, 2))
	_, err = newValidator(reg)
	require.ErrorContains(t, err, "v2/audit/session.ended.schema.json missing")

	// A sample envelope is untouched by decoding (events are values).
	require.NotContains(t, string(old.Data), "duration_us")
}

// fakeTB records a Fatalf instead of ending the test.
type fakeTB struct {
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

// TestOverrideVersion: what consumers' tests use to check that they decode
// through the upcasters. Not parallel: the override is process-wide.
func TestOverrideVersion(t *testing.T) {
	old := sample(t, TypeSessionEnded) // v1: duration_ms 93512
	t.Run("override", func(t *testing.T) {
		// Made up: v2 is today's Go type, and the upcaster doubles the
		// duration, so the test sees that it ran.
		OverrideVersion(t, TypeSessionEnded, 2, Upcaster{Type: TypeSessionEnded, From: 1, Up: func(d json.RawMessage) (json.RawMessage, error) {
			return bytes.Replace(d, []byte(`"duration_ms": 93512`), []byte(`"duration_ms": 187024`), 1), nil
		}})
		require.Equal(t, 2, CurrentVersion(TypeSessionEnded))
		got, err := DecodeAs[SessionEnded](old)
		require.NoError(t, err)
		require.Equal(t, int64(187024), got.DurationMS)
		up, err := Upcast(old)
		require.NoError(t, err)
		require.Equal(t, 2, up.V)
		require.Contains(t, string(up.Data), `"duration_ms":187024`)
		require.Equal(t, 1, old.V, "the event itself is not changed")

		cur := old
		cur.V = 2
		up, err = Upcast(cur)
		require.NoError(t, err)
		require.Equal(t, string(cur.Data), string(up.Data), "current data is kept byte for byte")

		_, err = DecodeAs[SessionStarted](old)
		require.ErrorContains(t, err, "the data is *schemas.SessionEnded, not *schemas.SessionStarted")

		var f fakeTB
		OverrideVersion(&f, TypeSessionEnded, 2)
		require.Contains(t, f.fatal, "at v2 already")
		OverrideVersion(&f, "session.renamed", 2)
		require.Contains(t, f.fatal, "unknown event type")
	})
	require.Equal(t, 1, CurrentVersion(TypeSessionEnded), "restored when the test ended")
	got, err := DecodeAs[SessionEnded](old)
	require.NoError(t, err)
	require.Equal(t, int64(93512), got.DurationMS)
}
