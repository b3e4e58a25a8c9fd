package gateway

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReloadableServes: a database is served when it is static (by name)
// or matched by a resource selector.
func TestReloadableServes(t *testing.T) {
	t.Parallel()
	r := &Reloadable{Databases: []Database{{Name: "roach"}}, Resources: []Selector{{"env": {"dev"}}}}
	_, ok := r.database("roach")
	require.True(t, ok)
	_, ok = r.database("other")
	require.False(t, ok)
	require.True(t, r.selects(map[string]string{"env": "dev"}))
	require.False(t, r.selects(map[string]string{"env": "prod"}))
}

// TestSpoolDir: spool_dir, else <data_dir>/spool; no data dir, no spool.
func TestSpoolDir(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/d/spool", Options{DataDir: "/d"}.spoolDir())
	require.Equal(t, "/s", Options{DataDir: "/d", SpoolDir: "/s"}.spoolDir())
	require.Equal(t, "", Options{}.spoolDir())
}
