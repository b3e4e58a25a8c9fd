package sqlsink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/internal/pgtest"
)

func items(from, n int) []export.Item {
	out := make([]export.Item, n)
	for i := range out {
		id := fmt.Sprintf("ev%05d", from+i)
		out[i] = export.Item{Stream: eventlog.AuditStream, StreamSeq: uint64(from + i + 1), Event: eventlog.Event{ID: id, Type: "query",
			Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), Source: "agent-1",
			Subject: "tollgate.audit.roach.alice.s1.query"}, Doc: []byte(`{"id":"` + id + `"}`)}
	}
	return out
}

func TestInsertIdempotent(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t, pgtest.Config{})
	ctx := context.Background()
	s, err := New(Config{DSN: pg.SuperuserConnString(), Table: "audit_events"})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Write(ctx, items(0, 2500)))
	require.NoError(t, s.Write(ctx, items(2000, 1000))) // 500 repeated
	huge := items(5000, 1)
	huge[0].Doc = []byte(`{"q":"` + strings.Repeat("x", 1<<20) + `","nul":"a\u0000b"}`)
	require.NoError(t, s.Write(ctx, huge))
	c, err := pg.Connect(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)
	var n, distinct int
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM audit_events`).Scan(&n, &distinct))
	require.Equal(t, 3001, n)
	require.Equal(t, 3001, distinct)
	var typ string
	require.NoError(t, c.QueryRow(ctx, `SELECT doc->>'id' FROM audit_events WHERE id='ev02999'`).Scan(&typ))
	require.Equal(t, "ev02999", typ)
}

func TestBadDSNKeepsSecret(t *testing.T) {
	t.Parallel()
	_, err := New(Config{DSN: "postgres://u:hunter2@h:notaport/db"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}
