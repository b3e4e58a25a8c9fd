package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/file"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestExportStatus: a node without export says so; a node with a file
// sink (real embedded JetStream) shows the sink's consumer and, once the
// agent's events are in the file, lag 0 with every sequence acked.
func TestExportStatus(t *testing.T) {
	t.Setenv("TOLLGATE_HOME", t.TempDir())

	bare := nodetest.Start(t, nil)
	admin := cli{t: t, n: bare, args: []string{"--data-dir", bare.DataDir}}
	require.Contains(t, admin.ok("export", "status"), "No export is configured on this node (control at "+bare.Addr+")")
	var st wire.ExportStatus
	require.NoError(t, json.Unmarshal([]byte(admin.ok("export", "status", "--format=json")), &st))
	require.False(t, st.Configured)
	require.Empty(t, st.Sinks)

	path := filepath.Join(t.TempDir(), "audit.jsonl")
	n := nodetest.StartConfig(t, nil, func(c *config.Config) {
		c.Export = &export.Config{Sinks: []export.SinkConfig{{Name: "siem", Type: file.Type, Settings: &file.Config{Path: path}}}}
	})
	admin = cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	appendSession(t, n)
	const sessEvents = 6 // started, 2 × (query, query.result), ended
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(path)
		return err == nil && strings.Count(string(raw), `"session_id":"sess-1"`) == sessEvents
	}, 30*time.Second, 50*time.Millisecond, "the file sink holds the session's events")
	// Control and the agent also write checkpoints: the stream's last
	// sequence is read where it is compared.
	var row wire.ExportStream
	var last uint64
	require.Eventually(t, func() bool {
		var st wire.ExportStatus
		if err := json.Unmarshal([]byte(admin.ok("export", "status", "--format=json")), &st); err != nil || !st.Configured || len(st.Sinks) != 1 {
			return false
		}
		s := st.Sinks[0]
		if s.Name != "siem" || s.Type != "file" || s.Format != "native" || len(s.Streams) != 1 {
			return false
		}
		row = s.Streams[0]
		var err error
		last, err = n.Env.Log.Audit.LastSeq(context.Background())
		return err == nil && row.Lag == 0 && row.AckedSeq == last
	}, 30*time.Second, 100*time.Millisecond, "export status: lag 0, acked up to the last audit event; last seen %+v", row)
	require.Equal(t, eventlog.AuditStream, row.Stream)
	require.Equal(t, "export-siem", row.Consumer)
	require.Equal(t, last, row.DeliveredSeq)
	require.Equal(t, last, row.Exported, "every audit event (control's cert.issued too) exported once")
	require.Empty(t, row.LastError)

	out := admin.ok("export", "status")
	require.Regexp(t, `SINK\s+TYPE\s+FORMAT\s+STREAM\s+CONSUMER\s+DELIVERED\s+ACKED\s+LAG\s+EXPORTED\s+STATE\s+LAST ERROR`, out)
	require.Regexp(t, `siem\s+file\s+native\s+`+eventlog.AuditStream+`\s+export-siem\s+\d+\s+\d+\s+0\s+\d+\s+ok\s+-`, out)
}
