package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicRouteNamesTheDatabaseInSNI: toll db env and config of a
// tunneled database point libpq at control's public port(s) with the
// database as the first label of the host (libpq's SNI); a control IP
// gets NAME.tollgate and hostaddr, a control name NAME.HOST (hostaddr only
// when NAME.HOST does not resolve); a name that is no DNS label is refused
// with what works instead.
func TestPublicRouteNamesTheDatabaseInSNI(t *testing.T) {
	t.Parallel()
	lookup := func(h string) ([]string, error) {
		switch h {
		case "roach.wild.example.com", "wild.example.com":
			return []string{"192.0.2.7"}, nil
		case "ctl.example.com":
			return []string{"192.0.2.8"}, nil
		}
		return nil, errors.New("no such host")
	}
	for _, tc := range []struct {
		name, db, proxy string
		hosts, addr     string
		ports           string
		err             string
	}{
		{"control by IP", "roach", "10.0.0.1:3080", "roach.tollgate", "10.0.0.1", "3080", ""},
		{"wildcard DNS", "roach", "wild.example.com:443", "roach.wild.example.com", "", "443", ""},
		{"no wildcard DNS", "roach", "ctl.example.com:3080", "roach.ctl.example.com", "192.0.2.8", "3080", ""},
		{"two controls", "roach", "10.0.0.1:3080,wild.example.com:443", "roach.tollgate,roach.wild.example.com", "10.0.0.1,", "3080,443", ""},
		{"not a DNS label", "Roach DB", "10.0.0.1:3080", "", "", "", "toll proxy db Roach DB"},
		{"control unresolvable", "roach", "nowhere.example:3080", "", "", "", "resolve control's host nowhere.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := publicRouteOf(tc.db, tc.proxy, lookup)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.hosts, strings.Join(r.hosts, ","))
			require.Equal(t, tc.addr, r.hostaddr())
			require.Equal(t, tc.ports, strings.Join(r.ports, ","))
		})
	}
}

// TestPublicRouteConnectionStrings: the three forms toll prints for a
// tunneled database carry the route and sslmode=verify-ca.
func TestPublicRouteConnectionStrings(t *testing.T) {
	t.Parallel()
	r, err := publicRouteOf("pg", "10.0.0.1:3080", nil)
	require.NoError(t, err)
	l := &dbLogin{dir: "/h/db/pg", Name: "pg", PublicAddr: "tunnel", DBUser: "alice", DBName: "app", public: r}
	require.Equal(t, "host=pg.tollgate hostaddr=10.0.0.1 port=3080 user=alice dbname=app sslmode=verify-ca "+
		"sslrootcert=/h/db/pg/ca.pem sslcert=/h/db/pg/db.crt sslkey=/h/db/pg/db.key", l.connString())
	require.Equal(t, "postgresql://alice@pg.tollgate:3080/app?sslmode=verify-ca&sslrootcert=/h/db/pg/ca.pem"+
		"&sslcert=/h/db/pg/db.crt&sslkey=/h/db/pg/db.key&hostaddr=10.0.0.1", l.url())
	env := map[string]string{}
	for _, kv := range l.env() {
		env[kv[0]] = kv[1]
	}
	require.Equal(t, map[string]string{"PGHOST": "pg.tollgate", "PGHOSTADDR": "10.0.0.1", "PGPORT": "3080", "PGSSLMODE": "verify-ca",
		"PGSSLCERT": "/h/db/pg/db.crt", "PGSSLKEY": "/h/db/pg/db.key", "PGSSLROOTCERT": "/h/db/pg/ca.pem",
		"PGUSER": "alice", "PGDATABASE": "app"}, env)
}
