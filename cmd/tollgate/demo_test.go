package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgtest"
)

// TestDemo runs the whole demo in process and checks the audit trail it
// prints holds the session's queries and their results, and that it
// cleans up its directory.
func TestDemo(t *testing.T) {
	if _, err := pgtest.BinDir(); err != nil {
		t.Fatal("PostgreSQL not found: apt-get install -y postgresql")
	}
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "tollgate-demo-*"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"demo", "--no-wait"}, strings.NewReader(""), &out, &errb)
	s := out.String()
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", s, errb.String())

	i := strings.Index(s, "Audit trail")
	require.Positive(t, i, s)
	trail := s[i:]
	for _, want := range []string{
		"session.started", "db user alice, db name defaultdb, allowed by role access",
		"CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT, balance INT)", "CREATE TABLE, 0 rows (",
		"INSERT INTO accounts VALUES (1, 'alice', 100), (2, 'bob', 50)", "INSERT 0 2, 2 rows (",
		"SELECT count(*) FROM accounts WHERE balance > $1 [$1=binary:", "(int 20)]",
		`SELECT balance FROM accounts WHERE owner = $1 [$1="alice"]`,
		"SELECT * FROM no_such_table", `ERROR 42P01: relation "no_such_table" does not exist`,
		"SELECT pg_sleep(60)", "session.cancel", "matched=true forwarded=true", "ERROR 57014: canceling statement due to user request",
		"session.ended", "client after", "db cert for alice (CN alice",
	} {
		require.Contains(t, trail, want)
	}
	require.NotContains(t, trail, `{"`, "every event in words")
	// The short session id of the trail is what the by-hand command takes.
	m := regexp.MustCompile(`tollctl audit session (\S+)`).FindStringSubmatch(s)
	require.NotNil(t, m, s)
	require.Len(t, m[1], 12)
	require.Regexp(t, `(?m)^\d+\s+\S+\s+session\.started\s+roach\s+alice\s+`+m[1]+`\s`, trail)
	// The by-hand commands.
	for _, want := range []string{"toll login --proxy=127.0.0.1:", "--user=alice --ca-pin=sha256:", "toll db ls", "toll db connect roach", "export TOLLGATE_HOME=",
		"web console   https://127.0.0.1:", "/web/ (log in as security, password tollgate-demo-console"} {
		require.Contains(t, s, want)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "tollgate-demo-*"))
	require.ElementsMatch(t, before, after, "the demo removes its temp dir")
}

func TestDemoWithoutPostgreSQL(t *testing.T) {
	t.Setenv(pgtest.BinDirEnv, t.TempDir())
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"demo", "--no-wait"}, strings.NewReader(""), &out, &errb)
	require.Equal(t, 1, code)
	require.Contains(t, errb.String(), "apt-get install -y postgresql")
	require.Contains(t, errb.String(), "--db-uri")
}
