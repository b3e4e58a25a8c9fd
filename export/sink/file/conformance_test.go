package file

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	var path string
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) export.Sink {
			path = filepath.Join(t.TempDir(), "c.jsonl")
			s, err := New(Config{Path: path, MaxBytes: 1 << 30})
			require.NoError(t, err)
			return s
		},
		Received: func(t *testing.T) []string {
			var ids []string
			for _, l := range readLines(t, path) {
				var m map[string]string
				require.NoError(t, json.Unmarshal([]byte(l), &m))
				ids = append(ids, m["id"])
			}
			return ids
		},
	})
}
