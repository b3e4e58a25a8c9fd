package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDBUserRemembered: --db-user given once is kept for later commands
// without it (also when they log in again), said on stderr each time,
// shown by toll db ls and toll status, and forgotten by toll db logout;
// --help says so.
func TestDBUserRemembered(t *testing.T) {
	_, home, _, _ := withAlice(t, "*")
	pguser := regexp.MustCompile(`(?m)^export PGUSER=(\S+)$`)
	env := func(args ...string) (user, stderr string) {
		t.Helper()
		out, errs, code := toll(t, "", append([]string{"db", "env", "roach"}, args...)...)
		require.Equal(t, 0, code, errs)
		m := pguser.FindStringSubmatch(out)
		require.NotNil(t, m, out)
		return m[1], errs
	}
	ls := func() dbRow {
		t.Helper()
		out, errs, code := toll(t, "", "db", "ls", "--format=json")
		require.Equal(t, 0, code, errs)
		var rows []dbRow
		require.NoError(t, json.Unmarshal([]byte(out), &rows))
		require.Len(t, rows, 1)
		return rows[0]
	}
	text := func(args ...string) string {
		t.Helper()
		out, errs, code := toll(t, "", args...)
		require.Equal(t, 0, code, errs)
		return out
	}

	// Nothing chosen: alice's own name (any db user allowed).
	row := ls()
	require.Equal(t, "alice", row.ConnectsAs)
	require.False(t, row.Remembered)
	require.Contains(t, text("status"), "Databases: none logged in")

	user, errs := env("--db-user=bob")
	require.Equal(t, "bob", user)
	require.Empty(t, errs, "the flag was given: nothing to point out")
	row = ls()
	require.Equal(t, "bob", row.ConnectsAs)
	require.True(t, row.Remembered)
	require.Regexp(t, `(?m)^roach\s.*\sbob \(remembered\)$`, text("db", "ls"))
	require.Regexp(t, `(?m)^  roach\s+bob \(remembered\)\s+defaultdb\s+until `, text("status"))

	user, errs = env()
	require.Equal(t, "bob", user, "remembered")
	require.Equal(t, "Using db user bob on roach, given earlier with --db-user/--db-name (toll db logout roach forgets it).\n", errs)

	// An expired database cert: the new login keeps the choice.
	meta := filepath.Join(home, "db", "roach", dbMetaFile)
	raw, err := os.ReadFile(meta)
	require.NoError(t, err)
	var l dbLogin
	require.NoError(t, json.Unmarshal(raw, &l))
	l.NotAfter = time.Now().Add(-time.Hour)
	raw, err = json.Marshal(&l)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(meta, raw, 0o600))
	user, errs = env()
	require.Equal(t, "bob", user)
	require.Contains(t, errs, "Using db user bob on roach")
	renewed, err := loadDBLogin(home, "roach")
	require.NoError(t, err)
	require.True(t, renewed.NotAfter.After(time.Now()), "logged in again")
	require.True(t, renewed.DBUserChosen)

	// Another --db-user replaces it; logout forgets it.
	user, _ = env("--db-user=carol")
	require.Equal(t, "carol", user)
	require.Equal(t, "carol", ls().ConnectsAs)
	text("db", "logout", "roach")
	user, errs = env()
	require.Equal(t, "alice", user)
	require.Empty(t, errs)
	row = ls()
	require.Equal(t, "alice", row.ConnectsAs)
	require.False(t, row.Remembered)
	require.Regexp(t, `(?m)^  roach\s+alice\s+defaultdb\s+until `, text("status"))

	for _, cmd := range [][]string{{"db", "connect"}, {"db", "env"}, {"db", "login"}, {"db", "config"}, {"proxy", "db"}} {
		help := text(append(cmd, "--help")...)
		require.Contains(t, help, "A --db-user or --db-name given once is remembered for this database", cmd)
		require.Contains(t, help, "until toll db logout NAME", cmd)
	}
}
