package auditview

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestDescribeEveryType: every event type of the catalogue, control and
// audit (one sample each, from schemas/testdata/samples), has a human
// description, never its data as JSON; an event of no session (such as
// cert.issued from control) shows no session, not its chain source. The
// table of all of them is a golden file.
func TestDescribeEveryType(t *testing.T) {
	t.Parallel()
	var recs []eventlog.Record
	for i, info := range schemas.All() {
		raw, err := os.ReadFile(filepath.Join("..", "..", "schemas", "testdata", "samples", info.Type+".json"))
		require.NoError(t, err, "a sample of %s", info.Type)
		var ev eventlog.Event
		require.NoError(t, json.Unmarshal(raw, &ev))
		d := Describe(ev)
		require.NotEmpty(t, d.Detail, info.Type)
		require.False(t, strings.HasPrefix(d.Detail, "{"), "%s is described, not dumped: %s", info.Type, d.Detail)
		require.NotContains(t, d.Detail, "cannot decode", info.Type)
		recs = append(recs, eventlog.Record{StreamSeq: uint64(i + 1), Event: ev})
	}
	control := eventlog.Event{ID: "e1", Type: schemas.TypeCertIssued, V: 1, Time: audittest.T0, Source: "control", Actor: "alice",
		Subject: eventlog.AuditSubject("", "alice", "control", schemas.TypeCertIssued),
		Data: json.RawMessage(`{"kind":"user","ca_type":"user","serial":"01","subject":"alice","not_before":"2025-03-14T09:00:00Z",` +
			`"not_after":"2025-03-14T21:00:00Z","for":"alice"}`)}
	d := Describe(control)
	require.Equal(t, Described{User: "alice", Detail: "user cert for alice (CN alice) from the user CA until 2025-03-14T21:00:00Z, serial 01"}, d)
	recs = append(recs, eventlog.Record{StreamSeq: uint64(len(recs) + 1), Event: control})

	var b bytes.Buffer
	require.NoError(t, RenderRecords(&b, recs, RecordsOptions{}))
	golden(t, "describe", b.Bytes())
}

// TestShortSessions: with ShortSessions each session shows as its
// shortest prefix of at least ShortSessionLen characters that no other
// session in the table shares.
func TestShortSessions(t *testing.T) {
	t.Parallel()
	ids := []string{"01JQ8ZC3V4K7M2X5P9RT00000A", "01JQ8ZC3V4K7M2X5P9RT00000B", "01JQ8ZD000000000000000000C", "01JQ8ZC3V4K7M2X5P9RT00000A"}
	got := shortPrefixes(ids, ShortSessionLen)
	require.Equal(t, map[string]string{
		"01JQ8ZC3V4K7M2X5P9RT00000A": "01JQ8ZC3V4K7M2X5P9RT00000A",
		"01JQ8ZC3V4K7M2X5P9RT00000B": "01JQ8ZC3V4K7M2X5P9RT00000B",
		"01JQ8ZD000000000000000000C": "01JQ8ZD00000",
	}, got)
	require.Equal(t, map[string]string{"s1": "s1"}, shortPrefixes([]string{"s1"}, ShortSessionLen))

	l := audittest.NewLog(t, eventlog.AuditStream)
	l.Audit(0, "roach", "alice", ids[2], schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: ids[2], User: "alice", Database: "roach"})
	var b bytes.Buffer
	res, err := auditquery.Search(t.Context(), l.S, auditquery.Filter{})
	require.NoError(t, err)
	require.NoError(t, RenderRecords(&b, res.Records, RecordsOptions{ShortSessions: true}))
	require.Contains(t, b.String(), "  01JQ8ZD00000  ")
	require.NotContains(t, b.String(), ids[2])
}
