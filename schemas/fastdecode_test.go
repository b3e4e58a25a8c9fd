package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

// checkFast decodes data as typ both ways. When the fast path takes it, its
// result must equal encoding/json's exactly (nil vs empty included), and
// encoding/json must accept the input too. It returns whether the fast path
// took it.
func checkFast(t testing.TB, typ string, data []byte) bool {
	t.Helper()
	in, ok := Lookup(typ)
	require.True(t, ok, typ)
	fast := in.New()
	if !fastUnmarshal(data, string(data), fast) {
		return false
	}
	slow := in.New()
	require.NoError(t, json.Unmarshal(data, slow), "fast path took input encoding/json refuses: %s %q", typ, data)
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s %q:\nfast %#v\njson %#v", typ, data, fast, slow)
	}
	// Cutting the strings from data itself (DecodeOwned) gives the same.
	aliased := in.New()
	require.True(t, fastUnmarshal(data, dataString(data, true), aliased), "%s %q", typ, data)
	require.Equal(t, slow, aliased, "%s %q aliased", typ, data)
	return true
}

func TestFastUnmarshalSamples(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "samples", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(b, &ev))
		in, _ := Lookup(ev.Type)
		took := checkFast(t, ev.Type, ev.Data)
		// Every control type has a fast path, and the two audit events of
		// every query, for the indented sample and for what json.Marshal
		// writes.
		fast := in.Stream == StreamControl || ev.Type == TypeQuery || ev.Type == TypeQueryResult
		require.Equal(t, fast, took, "%s indented", ev.Type)
		v := in.New()
		require.NoError(t, json.Unmarshal(ev.Data, v))
		compact, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, fast, checkFast(t, ev.Type, compact), "%s compact", ev.Type)
	}
}

func TestFastUnmarshalEdges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, typ, data string
		fast            bool
	}{
		{"empty object", TypeUserUpdated, `{}`, true},
		{"empty roles and traits", TypeUserUpdated, `{"name":"a","roles":[],"traits":{}}`, true},
		{"empty trait list", TypeUserUpdated, `{"name":"a","roles":["x"],"traits":{"db_users":[]}}`, true},
		{"whitespace everywhere", TypeUserUpdated, " {\n\t\"name\" : \"a\" ,\r\"roles\" : [ \"x\" , \"y\" ] } \n", true},
		{"non-ASCII", TypeUserDeleted, `{"name":"zoë-日本"}`, true},
		{"bool false", TypeTokenCreated, `{"hash":"h","type":"db","expires":"2025-03-14T09:10:00Z","reusable":false}`, true},
		{"time with offset", TypeTokenCreated, `{"hash":"h","expires":"2025-03-14T09:10:00.5+02:00"}`, true},
		{"tls", TypeDatabaseRegistered, `{"name":"d","protocol":"postgres","uri":"h:1","tls":{"mode":"verify-full","server_name":"h"}}`, true},
		{"empty tls", TypeDatabaseRegistered, `{"name":"d","tls":{}}`, true},
		{"empty labels", TypeDatabaseUpdated, `{"name":"d","labels":{}}`, true},
		{"resources", TypeAgentJoined, `{"id":"a","hostname":"h","resources":[{"env":["dev"]},{}],"token_hash":"t","cert_serial":"01"}`, true},
		{"empty resources", TypeAgentUpdated, `{"id":"a","resources":[]}`, true},
		{"empty rules", TypeRoleUpdated, `{"name":"r","spec":{"allow":{"rules":[]},"deny":{},"options":{}}}`, true},
		{"lock", TypeLockCreated, `{"id":"l","target":{"user":"u","role":"r","database":"d","agent":"a"},"message":"m","expires":"2025-03-14T09:10:00Z"}`, true},

		{"unknown key", TypeUserUpdated, `{"name":"a","extra":1}`, false},
		{"key in other case", TypeUserUpdated, `{"Name":"a"}`, false},
		{"duplicate key", TypeUserUpdated, `{"name":"a","name":"b"}`, false},
		{"duplicate map key", TypeUserUpdated, `{"traits":{"k":["a"],"k":["b"]}}`, false},
		{"null", TypeUserUpdated, `{"name":"a","roles":null}`, false},
		{"short escapes", TypeUserDeleted, `{"name":"a\"b\\c\/d\b\f\n\r\te"}`, true},
		{"escape first", TypeUserDeleted, `{"name":"\nx"}`, true},
		{"escaped key", TypeUserDeleted, `{"n\u0061me":"a"}`, true},
		{"bad escape", TypeUserDeleted, `{"name":"a\x"}`, false},
		{"escape at end", TypeUserDeleted, `{"name":"a\`, false},
		{"escaped time", TypeTokenCreated, `{"expires":"2025-03-14T09:10:00\u005a"}`, false},
		{"unicode escape", TypeUserDeleted, `{"name":"\u00e9"}`, true},
		{"HTML escapes", TypeQuery, `{"statement":"SELECT 1 \u003c 2 \u0026\u0026 x \u003E y"}`, true},
		{"escaped NUL", TypeQuery, `{"statement":"a\u0000b"}`, true},
		{"surrogate pair", TypeUserDeleted, `{"name":"\ud83d\ude00"}`, false},
		{"lone surrogate", TypeUserDeleted, `{"name":"\udc00x"}`, false},
		{"short unicode escape", TypeUserDeleted, `{"name":"\u00e"}`, false},
		{"bad hex", TypeUserDeleted, `{"name":"\u00g0"}`, false},
		{"query", TypeQuery, `{"session_id":"s","n":9999999999999999999,"kind":"extended","statement":"SELECT $1","statement_name":"s1","portal":"","params":[{"format":"text","value":"1"},{"format":"null"},{"format":"binary","value":"AAE=","sha256":"ab"}],"truncated":true,"sha256":"cd","params_omitted":2,"params_sha256":"ef","prepared_by":3,"access_request":"r"}`, true},
		{"query without params", TypeQuery, `{"session_id":"s","n":1,"kind":"simple","statement":"x","params":[]}`, true},
		{"params null", TypeQuery, `{"params":null}`, false},
		{"n too long", TypeQuery, `{"n":123456789012345678901}`, false},
		{"n negative", TypeQuery, `{"n":-1}`, false},
		{"n fraction", TypeQuery, `{"n":1.0}`, false},
		{"n exponent", TypeQuery, `{"n":1e3}`, false},
		{"n leading zero", TypeQuery, `{"n":01}`, false},
		{"result", TypeQueryResult, `{"session_id":"s","n":2,"status":"error","command_tag":"","rows":-1,"sqlstate":"42501","error":"no","duration_us":-0,"truncated":false}`, true},
		{"rows minus alone", TypeQueryResult, `{"rows":-}`, false},
		{"rows minus space", TypeQueryResult, `{"rows":- 1}`, false},
		{"rows at int64 edge", TypeQueryResult, `{"rows":-9223372036854775808}`, false},
		{"rows 18 digits", TypeQueryResult, `{"rows":-999999999999999999}`, true},
		{"invalid UTF-8", TypeUserDeleted, "{\"name\":\"a\xffb\"}", false},
		{"control character", TypeUserDeleted, "{\"name\":\"a\tb\"}", false},
		{"trailing garbage", TypeUserDeleted, `{"name":"a"} x`, false},
		{"trailing comma", TypeUserDeleted, `{"name":"a",}`, false},
		{"missing colon", TypeUserDeleted, `{"name" "a"}`, false},
		{"unterminated", TypeUserDeleted, `{"name":"a"`, false},
		{"not an object", TypeUserDeleted, `["a"]`, false},
		{"number", TypeUserDeleted, `{"name":1}`, false},
		{"bad time", TypeTokenCreated, `{"expires":"yesterday"}`, false},
		{"time not RFC 3339", TypeTokenCreated, `{"expires":"2025-03-14 09:10:00Z"}`, false},
		{"bad bool", TypeTokenCreated, `{"reusable":tru}`, false},
		{"audit type", TypeSessionEnded, `{}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.fast, checkFast(t, tc.typ, []byte(tc.data)))
		})
	}
}

// FuzzFastUnmarshal checks that whatever the fast path accepts decodes
// exactly as encoding/json decodes it.
func FuzzFastUnmarshal(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "samples", "*.json"))
	require.NoError(f, err)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(f, json.Unmarshal(b, &ev))
		f.Add(ev.Type, []byte(ev.Data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		if _, ok := Lookup(typ); !ok {
			return
		}
		checkFast(t, typ, data)
	})
}

// TestDecodeOwned: DecodeOwned gives what Decode gives, with the strings
// cut from the event's data rather than from a copy of it.
func TestDecodeOwned(t *testing.T) {
	t.Parallel()
	data := []byte(`{"name":"alice","roles":["access"],"traits":{}}`)
	ev := eventlog.Event{Type: TypeUserUpdated, V: 1, Data: data}
	want, err := Decode(ev)
	require.NoError(t, err)
	got, err := DecodeOwned(ev)
	require.NoError(t, err)
	require.Equal(t, want, got)
	inData := func(s string) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		return p >= start && p < start+uintptr(len(data))
	}
	require.True(t, inData(got.(*UserUpdated).Name), "DecodeOwned copied the name")
	require.False(t, inData(want.(*UserUpdated).Name), "Decode aliased the name")
}
