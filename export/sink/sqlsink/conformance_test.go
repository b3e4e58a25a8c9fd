package sqlsink

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
	"github.com/tollgate-db/tollgate/internal/pgtest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t, pgtest.Config{})
	ctx := context.Background()
	c, err := pg.Connect(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) export.Sink {
			_, err := c.Exec(ctx, `DROP TABLE IF EXISTS conformance`)
			require.NoError(t, err)
			s, err := New(Config{DSN: pg.SuperuserConnString(), Table: "conformance"})
			require.NoError(t, err)
			return s
		},
		Received: func(t *testing.T) []string {
			rows, err := c.Query(ctx, `SELECT id FROM conformance`)
			require.NoError(t, err)
			defer rows.Close()
			var ids []string
			for rows.Next() {
				var id string
				require.NoError(t, rows.Scan(&id))
				ids = append(ids, id)
			}
			require.NoError(t, rows.Err())
			return ids
		},
	})
}
