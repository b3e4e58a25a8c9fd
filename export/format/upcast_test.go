package format

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// A made-up history, for the test: suppose session.ended and role.deleted
// are at v2 (today's Go types), and their v1 recorded the duration in
// seconds ("duration_s") and the role as "role". The real catalogue is at
// v1; schemas.OverrideVersion moves these two types for this test only.
func sessionEndedSeconds(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	s, _ := m["duration_s"].(float64)
	delete(m, "duration_s")
	m["duration_ms"] = int64(s * 1000)
	return json.Marshal(m)
}

func roleDeletedRenamed(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["name"] = m["role"]
	delete(m, "role")
	return json.Marshal(m)
}

// TestOldVersionsAreUpcast: an event written at an older schema version
// reaches the OCSF and ECS mappings through the upcasters (typed fields and
// the data passed on as is), and maps like the same event written today;
// native keeps the stored bytes, which the hash chain covers. Not parallel:
// the override is process-wide.
func TestOldVersionsAreUpcast(t *testing.T) {
	schemas.OverrideVersion(t, schemas.TypeSessionEnded, 2, schemas.Upcaster{Type: schemas.TypeSessionEnded, From: 1, Up: sessionEndedSeconds})
	schemas.OverrideVersion(t, schemas.TypeRoleDeleted, 2, schemas.Upcaster{Type: schemas.TypeRoleDeleted, From: 1, Up: roleDeletedRenamed})

	ended := samples()[schemas.TypeSessionEnded]
	old := ended
	old.Data = json.RawMessage(`{"session_id":"01JQ8ZD0A1B2C3D4E5F6G7H8J9","reason":"client","duration_s":93.512,"queries":17,"bytes_in":5120,"bytes_out":88213}`)
	now := ended
	now.V = 2
	now.Data = json.RawMessage(`{"session_id":"01JQ8ZD0A1B2C3D4E5F6G7H8J9","reason":"client","duration_ms":93512,"queries":17,"bytes_in":5120,"bytes_out":88213}`)

	field := func(doc []byte, path ...string) any {
		var v any
		require.NoError(t, json.Unmarshal(doc, &v))
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v
	}
	for _, ev := range []eventlog.Event{old, now} {
		doc, err := OCSF{}.Format(&ev)
		require.NoError(t, err)
		require.EqualValues(t, 93512, field(doc, "duration"), "ocsf v%d", ev.V)
		require.EqualValues(t, 17, field(doc, "unmapped", "queries"))
		doc, err = ECS{}.Format(&ev)
		require.NoError(t, err)
		require.EqualValues(t, 93512*1e6, field(doc, "event", "duration"), "ecs v%d", ev.V)
	}

	role := samples()[schemas.TypeRoleDeleted]
	role.Data = json.RawMessage(`{"role":"access"}`)
	doc, err := OCSF{}.Format(&role)
	require.NoError(t, err)
	require.Equal(t, "access", field(doc, "entity", "name"))
	require.Equal(t, map[string]any{"name": "access"}, field(doc, "unmapped", "data"))
	doc, err = ECS{}.Format(&role)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"name": "access"}, field(doc, "tollgate", "data"))

	doc, err = Native{}.Format(&old)
	require.NoError(t, err)
	require.Contains(t, string(doc), `"duration_s":93.512`, "native is the stored event")
}
