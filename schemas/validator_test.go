package schemas

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

var (
	validatorOnce sync.Once
	validatorVal  *Validator
	validatorErr  error
)

func testValidator(t *testing.T) *Validator {
	t.Helper()
	validatorOnce.Do(func() { validatorVal, validatorErr = NewValidator() })
	require.NoError(t, validatorErr)
	return validatorVal
}

// sample reads testdata/samples/<typ>.json.
func sample(t *testing.T, typ string) eventlog.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", typ+".json"))
	require.NoError(t, err, "every type needs a sample")
	var ev eventlog.Event
	require.NoError(t, json.Unmarshal(b, &ev))
	return ev
}

func TestSamplesValidate(t *testing.T) {
	t.Parallel()
	v := testValidator(t)
	for _, in := range All() {
		ev := sample(t, in.Type)
		require.Equal(t, in.Type, ev.Type)
		require.Equal(t, in.Version, ev.V)
		require.NoError(t, v.Validate(&ev), in.Type)
	}
	names, err := filepath.Glob(filepath.Join("testdata", "samples", "*.json"))
	require.NoError(t, err)
	require.Len(t, names, len(All()), "a sample without a registry entry")
}

// TestBuilderEventsValidate: events made the way producers make them
// (Builder + Marshal + subject helpers) pass.
func TestBuilderEventsValidate(t *testing.T) {
	t.Parallel()
	v := testValidator(t)
	b := eventlog.NewBuilder("control")
	raw, ver, err := Marshal(TypeUserCreated, UserCreated{User: User{Name: "bob"}})
	require.NoError(t, err)
	ev, err := b.Build(TypeUserCreated, ver, "admin", eventlog.ControlSubject(eventlog.KindUser, "bob@example.com"), json.RawMessage(raw))
	require.NoError(t, err)
	require.NoError(t, v.Validate(&ev), "nil roles and a zero invite time are what Go writes")

	raw, ver, err = Marshal(TypeSessionCancel, &SessionCancel{ClientAddr: "10.0.0.1:5000"})
	require.NoError(t, err)
	ev, err = eventlog.NewBuilder("agent-1").Build(TypeSessionCancel, ver, "", eventlog.AuditSubject("", "", "", TypeSessionCancel), json.RawMessage(raw))
	require.NoError(t, err)
	require.NoError(t, v.Validate(&ev))

	// The flood summaries and capped parameters: suppressed, truncated,
	// and the audit rejection codes.
	agent := eventlog.NewBuilder("agent-1")
	for _, c := range []struct {
		typ  string
		data any
	}{
		{TypeSessionCancel, SessionCancel{ClientAddr: "10.0.0.1:5000", Reason: "no session matches the cancel key", Suppressed: 4995}},
		{TypeSessionRejected, SessionRejected{SessionID: "s1", ClientAddr: "10.0.0.1:5001", AgentID: "agent-1",
			Code: RejectPlaintext, Reason: "TLS required", Suppressed: 495}},
		{TypeSessionRejected, SessionRejected{SessionID: "s2", ClientAddr: "10.0.0.1:5002", AgentID: "agent-1",
			Code: RejectAuditUnavailable, Reason: "audit log unavailable", Params: map[string]string{"application_name": "x"}, Truncated: true}},
		{TypeSessionRejected, SessionRejected{SessionID: "s3", ClientAddr: "10.0.0.1:5003", AgentID: "agent-1",
			Code: RejectAuditTooLarge, Reason: "too large"}},
		{TypeSessionStarted, SessionStarted{SessionID: "s4", User: "alice", Database: "roach", DBUser: "alice", DBName: "alice",
			Protocol: "postgres", ClientAddr: "10.0.0.1:5004", AgentID: "agent-1", Truncated: true}},
	} {
		raw, ver, err := Marshal(c.typ, c.data)
		require.NoError(t, err)
		ev, err := agent.Build(c.typ, ver, "", eventlog.AuditSubject("roach", "", "s", c.typ), json.RawMessage(raw))
		require.NoError(t, err)
		require.NoError(t, v.Validate(&ev), "%s %s", c.typ, raw)
	}
	ev, err = agent.Build(TypeSessionCancel, 1, "", eventlog.AuditSubject("", "", "", TypeSessionCancel),
		json.RawMessage(`{"client_addr":"10.0.0.1:5000","matched":false,"forwarded":false,"suppressed":0}`))
	require.NoError(t, err)
	require.ErrorContains(t, v.Validate(&ev), "/data/suppressed", "a summary counts at least one event")
}

func TestValidateRefuses(t *testing.T) {
	t.Parallel()
	v := testValidator(t)
	// data edits the sample's data as a map.
	data := func(f func(m map[string]any)) func(ev *eventlog.Event) {
		return func(ev *eventlog.Event) {
			var m map[string]any
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				panic(err)
			}
			f(m)
			ev.Data, _ = json.Marshal(m)
		}
	}
	tests := []struct {
		name     string
		typ      string
		edit     func(ev *eventlog.Event)
		field    string
		reason   string
		sentinel error
	}{
		{"missing data field", TypeUserCreated, data(func(m map[string]any) { delete(m, "name") }),
			"/data/name", "missing property 'name'", ErrInvalid},
		{"wrong data type", TypeUserCreated, data(func(m map[string]any) { m["roles"] = "dba" }),
			"/data/roles", "got string, want null or array", ErrInvalid},
		{"bad enum", TypeUserPasswordSet, data(func(m map[string]any) { m["via"] = "email" }),
			"/data/via", "value must be one of 'invite', 'reset'", ErrInvalid},
		{"extra field (typo)", TypeUserCreated, data(func(m map[string]any) { m["nmae"] = "alice" }),
			"/data/nmae", "unknown property 'nmae'", ErrInvalid},
		{"bad time in data", TypeTokenCreated, data(func(m map[string]any) { m["expires"] = "tomorrow" }),
			"/data/expires", "is not valid date-time", ErrInvalid},
		{"bad hash", TypeTokenDeleted, data(func(m map[string]any) { m["hash"] = "secret-token-value" }),
			"/data/hash", "does not match pattern", ErrInvalid},
		{"nested missing field", TypeRoleCreated, data(func(m map[string]any) {
			m["spec"].(map[string]any)["allow"].(map[string]any)["rules"] = []any{map[string]any{"resources": []any{"user"}}}
		}), "/data/spec/allow/rules/0/verbs", "missing property 'verbs'", ErrInvalid},
		{"nested bad enum", TypeQuery, data(func(m map[string]any) {
			m["params"].([]any)[1].(map[string]any)["format"] = "hex"
		}), "/data/params/1/format", "value must be one of", ErrInvalid},
		{"nested extra field", TypeLockCreated, data(func(m map[string]any) {
			m["target"].(map[string]any)["usr"] = "bob"
		}), "/data/target/usr", "unknown property 'usr'", ErrInvalid},
		{"empty lock target", TypeLockCreated, data(func(m map[string]any) { m["target"] = map[string]any{} }),
			"/data/target", "minProperties", ErrInvalid},
		{"query number 0", TypeQuery, data(func(m map[string]any) { m["n"] = 0 }),
			"/data/n", "minimum", ErrInvalid},
		{"negative count", TypeSessionEnded, data(func(m map[string]any) { m["bytes_in"] = -1 }),
			"/data/bytes_in", "minimum", ErrInvalid},
		{"fractional integer", TypeQueryResult, data(func(m map[string]any) { m["rows"] = 1.5 }),
			"/data/rows", "got number, want integer", ErrInvalid},
		{"data not an object", TypeUserDeleted, func(ev *eventlog.Event) { ev.Data = json.RawMessage(`["alice"]`) },
			"/data", "got array, want object", ErrInvalid},
		{"data missing", TypeUserDeleted, func(ev *eventlog.Event) { ev.Data = nil },
			"/data", "got null, want object", ErrInvalid},
		{"data not JSON", TypeUserDeleted, func(ev *eventlog.Event) { ev.Data = json.RawMessage(`{"name":`) },
			"/data", "not valid JSON", ErrInvalid},
		{"missing id", TypeUserDeleted, func(ev *eventlog.Event) { ev.ID = "" },
			"/id", "minLength", ErrInvalid},
		{"missing source", TypeSessionEnded, func(ev *eventlog.Event) { ev.Source = "" },
			"/source", "minLength", ErrInvalid},
		{"zero time", TypeUserDeleted, func(ev *eventlog.Event) { ev.Time = time.Time{} },
			"/time", "time is not set", ErrInvalid},
		{"bad subject", TypeUserDeleted, func(ev *eventlog.Event) { ev.Subject = "tollgate.control.user.a b" },
			"/subject", "names encoded by eventlog.Token", ErrInvalid},
		{"control event on audit subject", TypeUserDeleted, func(ev *eventlog.Event) {
			ev.Subject = eventlog.AuditSubject("roach", "alice", "", TypeUserDeleted)
		}, "/subject", "a control event must be on a tollgate.control.", ErrInvalid},
		{"audit subject of another type", TypeQuery, func(ev *eventlog.Event) {
			ev.Subject = eventlog.AuditSubject("roach", "alice", "s1", TypeQueryResult)
		}, "/subject", "must end with .query", ErrInvalid},
		{"chain on control event", TypeUserDeleted, func(ev *eventlog.Event) { ev.Seq, ev.Hash = 1, strings.Repeat("a", 64) },
			"/seq", "audit events only", ErrInvalid},
		{"hash without seq", TypeQuery, func(ev *eventlog.Event) { ev.Seq = 0 },
			"/seq", "required, if 'hash' exists", ErrInvalid},
		{"unknown type", TypeUserDeleted, func(ev *eventlog.Event) { ev.Type = "user.renamed" },
			"/type", `unknown event type "user.renamed"`, ErrUnknownType},
		{"bad type name", TypeUserDeleted, func(ev *eventlog.Event) { ev.Type = "User Deleted" },
			"/type", "does not match pattern", ErrInvalid},
		{"newer version", TypeUserCreated, func(ev *eventlog.Event) { ev.V = 2 },
			"/v", "no schema for version 2 (known: v1)", ErrUnknownVersion},
		{"version 0", TypeUserCreated, func(ev *eventlog.Event) { ev.V = 0 },
			"/v", "minimum", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := sample(t, tt.typ)
			require.NoError(t, v.Validate(&ev), "the sample itself must pass")
			tt.edit(&ev)
			err := v.Validate(&ev)
			require.Error(t, err)
			t.Log(err)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "%T", err)
			require.Equal(t, tt.field, ve.Field, err.Error())
			require.Contains(t, ve.Reason, tt.reason, err.Error())
			require.Equal(t, ev.Type, ve.Type)
			require.Equal(t, ev.V, ve.Version)
			require.ErrorIs(t, err, tt.sentinel)
			require.NotContains(t, err.Error(), "\n")
			require.True(t, strings.HasPrefix(err.Error(), ev.Type+" v"), err.Error())
		})
	}
}

func TestValidationErrorText(t *testing.T) {
	t.Parallel()
	ev := sample(t, TypeUserCreated)
	var m map[string]any
	require.NoError(t, json.Unmarshal(ev.Data, &m))
	delete(m, "name")
	ev.Data, _ = json.Marshal(m)
	err := testValidator(t).Validate(&ev)
	require.EqualError(t, err, "user.created v1: /data/name: missing property 'name'")
	require.EqualError(t, testValidator(t).Validate(nil), "(no type) v0: nil event")
}

func TestValidatorIsEventlogValidator(t *testing.T) {
	t.Parallel()
	var ev eventlog.Validator = testValidator(t)
	require.NotNil(t, ev)
}

func TestDecodeSamples(t *testing.T) {
	t.Parallel()
	for _, in := range All() {
		ev := sample(t, in.Type)
		got, err := Decode(ev)
		require.NoError(t, err, in.Type)
		require.Equal(t, reflect.TypeOf(in.New()), reflect.TypeOf(got), in.Type)
		// Round trip: the Go type holds every field of the sample.
		back, err := json.Marshal(got)
		require.NoError(t, err)
		require.JSONEq(t, string(ev.Data), string(back), in.Type)
		// And Marshal gives the same data and the current version.
		raw, ver, err := Marshal(in.Type, got)
		require.NoError(t, err)
		require.Equal(t, in.Version, ver)
		require.JSONEq(t, string(ev.Data), string(raw))
		// The envelope round-trips too.
		file, err := os.ReadFile(filepath.Join("testdata", "samples", in.Type+".json"))
		require.NoError(t, err)
		env, err := json.Marshal(ev)
		require.NoError(t, err)
		require.JSONEq(t, string(file), string(env), in.Type)
	}
}

func TestDecodeTyped(t *testing.T) {
	t.Parallel()
	got, err := Decode(sample(t, TypeUserCreated))
	require.NoError(t, err)
	uc, ok := got.(*UserCreated)
	require.True(t, ok)
	require.Equal(t, "alice", uc.Name)
	require.Equal(t, []string{"dba", "auditor"}, uc.Roles)
	require.Equal(t, time.Date(2025, 3, 15, 9, 10, 0, 0, time.UTC), uc.InviteExpires)
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	ev := sample(t, TypeUserCreated)
	ev.Type = "user.renamed"
	_, err := Decode(ev)
	require.ErrorIs(t, err, ErrUnknownType)

	ev = sample(t, TypeUserCreated)
	ev.V = 2
	_, err = Decode(ev)
	require.ErrorIs(t, err, ErrUnknownVersion)
	require.ErrorContains(t, err, "upgrade")

	ev = sample(t, TypeUserCreated)
	ev.Data = json.RawMessage(`{"name": 7}`)
	_, err = Decode(ev)
	require.ErrorContains(t, err, "decode user.created v1")
}

func TestMarshal(t *testing.T) {
	t.Parallel()
	raw, v, err := Marshal(TypeUserDeleted, UserDeleted{Name: "alice"})
	require.NoError(t, err)
	require.Equal(t, 1, v)
	require.JSONEq(t, `{"name":"alice"}`, string(raw))

	// Aliases: role.created data is a Role.
	_, _, err = Marshal(TypeRoleCreated, &Role{Name: "dba"})
	require.NoError(t, err)

	_, _, err = Marshal(TypeUserDeleted, RoleDeleted{Name: "alice"})
	require.ErrorContains(t, err, "data is schemas.RoleDeleted, want schemas.UserDeleted")
	_, _, err = Marshal(TypeUserDeleted, (*UserDeleted)(nil))
	require.ErrorContains(t, err, "nil")
	_, _, err = Marshal(TypeUserDeleted, nil)
	require.Error(t, err)
	_, _, err = Marshal("user.renamed", UserDeleted{})
	require.ErrorIs(t, err, ErrUnknownType)
}
