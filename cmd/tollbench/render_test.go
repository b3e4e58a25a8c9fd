package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRenderPerProcessTables(t *testing.T) {
	t.Parallel()
	rows := []row{
		{target: "direct", clients: 8, tps: 1000, txns: 10, machine: 3 * time.Millisecond, usage: map[string]usage{
			rolePostgres: {cpu: time.Millisecond},
			rolePgbench:  {cpu: 500 * time.Microsecond, vol: 20, invol: 5, switches: true}}},
		{target: "agent strict", clients: 8, tps: 500, txns: 4, machine: 2 * time.Millisecond, usage: map[string]usage{
			rolePostgres: {cpu: 400 * time.Microsecond},
			roleAgent:    {cpu: 800 * time.Microsecond, vol: 40, invol: 2, switches: true},
			roleControl:  {cpu: 200 * time.Microsecond, vol: 12, invol: 0, switches: true},
			rolePgbench:  {cpu: 100 * time.Microsecond, vol: 4, invol: 0, switches: true}},
			syscalls: map[string]uint64{roleAgent: 60, roleControl: 30}},
	}
	out := render(rows, map[string]float64{"direct": 1, "agent strict": 2}, []target{{name: "direct"}, {name: "agent strict"}}, options{duration: time.Second})
	// Columns in table order, only for processes some row measured.
	require.Contains(t, out, "| target | clients | agent | control | PostgreSQL | pgbench | sum | machine |\n")
	require.Contains(t, out, "| direct | 8 | — | — | 100.0 | 50.0 | 150.0 | 300.0 |\n")
	require.Contains(t, out, "| agent strict | 8 | 200.0 | 50.0 | 100.0 | 25.0 | 375.0 | 500.0 |\n")
	// Switches only where they were read (not PostgreSQL's tree).
	require.Contains(t, out, "| target | clients | agent | control | pgbench |\n")
	require.Contains(t, out, "| agent strict | 8 | 10.0 / 0.5 | 3.0 / 0.0 | 1.0 / 0.0 |\n")
	// System calls: rows without any are left out.
	require.Contains(t, out, "| agent strict | 8 | 15.0 | 7.5 |\n")
	require.Equal(t, 1, strings.Count(out, "| agent strict | 8 | 15.0"))
	require.Contains(t, out, "| agent strict | 0 | 0 | — | 500 | 0.000 | 0.50× | 2.0 |\n")
}

func TestWriteTableGoesUnderItsSection(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "B.md")
	require.NoError(t, os.WriteFile(path, []byte("# B\n\n"+sectionTitle+"\n\nintro\n\n### old\n\nold table\n\n## Next\n\nnext\n"), 0o600))
	require.NoError(t, writeTable(path, "### new\n\nnew table\n"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# B\n\n"+sectionTitle+"\n\nintro\n\n### old\n\nold table\n\n### new\n\nnew table\n\n## Next\n\nnext\n", string(b))
}
