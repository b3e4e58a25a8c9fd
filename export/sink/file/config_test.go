package file

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

// TestConfigRejectsNonsense: a missing path, an unknown fsync policy and
// negative sizes or counts are errors naming the field, in the export
// section (export.sinks[i].file.…) and when the sink is built directly.
func TestConfigRejectsNonsense(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.jsonl")
	cases := []struct {
		cfg   Config
		field string
	}{
		{Config{}, "path"},
		{Config{Path: path, Fsync: "sometimes"}, "fsync"},
		{Config{Path: path, MaxBytes: -1}, "max_bytes"},
		{Config{Path: path, MaxBackups: -1}, "max_backups"},
	}
	for _, c := range cases {
		cfg := c.cfg
		err := sinktest.Validate(export.SinkTypes{SinkType()}, export.SinkConfig{Type: Type, Settings: &cfg})
		sinktest.RequireInvalid(t, err, "export.sinks[0].file."+c.field)
		_, err = New(c.cfg)
		sinktest.RequireInvalid(t, err, "file."+c.field)
	}
}

// TestConfigDefaults: zero values take the defaults.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := Config{Path: "x.jsonl"}
	require.NoError(t, sinktest.Validate(export.SinkTypes{SinkType()}, export.SinkConfig{Type: Type, Settings: &cfg}))
	require.Equal(t, Config{Path: "x.jsonl", MaxBytes: DefaultMaxBytes, MaxBackups: DefaultMaxBackups, Fsync: FsyncBatch}, cfg)
}
