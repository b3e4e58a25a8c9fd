package sqlsink

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

// TestConfigRejectsNonsense: a missing DSN and a table that is no plain
// name are errors naming the field, in the export section and when the
// sink is built directly.
func TestConfigRejectsNonsense(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg   Config
		field string
	}{
		{Config{}, "dsn"},
		{Config{DSN: "postgres://h/db", Table: "events; drop"}, "table"},
	}
	for _, c := range cases {
		cfg := c.cfg
		err := sinktest.Validate(export.SinkTypes{SinkType()}, export.SinkConfig{Type: Type, Settings: &cfg})
		sinktest.RequireInvalid(t, err, "export.sinks[0].sql."+c.field)
		_, err = New(c.cfg)
		sinktest.RequireInvalid(t, err, "sql."+c.field)
	}
	cfg := Config{DSN: "postgres://h/db"}
	require.NoError(t, sinktest.Validate(export.SinkTypes{SinkType()}, export.SinkConfig{Type: Type, Settings: &cfg}))
	require.Equal(t, DefaultTable, cfg.Table)
}
