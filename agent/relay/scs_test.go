package relay

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAsConformingSpellsTheServersStrings: with
// standard_conforming_strings off a backslash escapes a quote in a plain
// string; the rewrite spells that for a reader with it on, and leaves
// everything else as it is.
func TestAsConformingSpellsTheServersStrings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		changed        bool
	}{
		{"no backslash", "SELECT 'a'", "SELECT 'a'", false},
		{"escaped quote hides code from an on-reader", `SELECT 'a\' , ' ; DELETE FROM t; --'`, `SELECT 'a'' , ' ; DELETE FROM t; --'`, true},
		{"escaped backslash ends the string", `SELECT 'a\\' ; DELETE FROM t`, `SELECT 'a\\' ; DELETE FROM t`, false},
		{"E strings read alike", `SELECT E'a\'' ; x`, `SELECT E'a\'' ; x`, false},
		{"dollar quotes read alike", `SELECT $$a\'$$`, `SELECT $$a\'$$`, false},
		{"comments read alike", "SELECT 1 -- it\\'s\n", "SELECT 1 -- it\\'s\n", false},
		{"identifiers read alike", `SELECT "a\" FROM t`, `SELECT "a\" FROM t`, false},
		{"doubled quotes kept", `SELECT 'it''s \'x\''`, `SELECT 'it''s ''x'''`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := asConforming(tc.in)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.changed, changed)
		})
	}
}
