package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Start starts a server for the test and stops it in t.Cleanup. It fails the
// test when PostgreSQL is missing or does not start.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := StartServer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("pgtest: stop: %v", err)
		}
	})
	return s
}

// Exec runs sql as the superuser and fails the test on error.
func (s *Server) Exec(t testing.TB, sql string) {
	t.Helper()
	if err := s.ExecContext(context.Background(), sql); err != nil {
		t.Fatalf("pgtest: %v\nSQL: %s", err, sql)
	}
}

// CreateRole creates a LOGIN role named name (quoted as an identifier).
func (s *Server) CreateRole(t testing.TB, name string) {
	t.Helper()
	s.Exec(t, "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" LOGIN")
}

// Stop stops the server now; t.Cleanup would do it anyway.
func (s *Server) Stop() { _ = s.Close() }
