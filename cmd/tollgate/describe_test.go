package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestDescribeUpcasts: the demo's trail decodes through schemas, so an
// event of an older version is upcast. Made up for the test: query is at
// v2 (today's Go type) and its v1 called the statement "sql". Not
// parallel: the override is process-wide.
func TestDescribeUpcasts(t *testing.T) {
	schemas.OverrideVersion(t, schemas.TypeQuery, 2, schemas.Upcaster{Type: schemas.TypeQuery, From: 1,
		Up: func(d json.RawMessage) (json.RawMessage, error) {
			var m map[string]any
			if err := json.Unmarshal(d, &m); err != nil {
				return nil, err
			}
			m["statement"] = m["sql"]
			delete(m, "sql")
			return json.Marshal(m)
		}})
	ev := eventlog.Event{ID: "e1", Type: schemas.TypeQuery, V: 1, Time: time.Now(), Source: "agent-1",
		Subject: eventlog.AuditSubject("roach", "alice", "s1", schemas.TypeQuery),
		Data:    json.RawMessage(`{"session_id":"s1","n":3,"kind":"simple","sql":"SELECT 42"}`)}
	_, session, detail := describe(ev)
	require.Equal(t, "s1", session)
	require.Equal(t, "#3 SELECT 42", detail)

	ev.V = 3
	_, _, detail = describe(ev)
	require.Contains(t, detail, "cannot decode")
}
