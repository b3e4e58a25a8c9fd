// Package pgtest starts a real PostgreSQL server for tests, demos and
// benchmarks: initdb and postgres from the newest /usr/lib/postgresql/*/bin,
// in a fresh temp dir, on a free loopback port, with its unix socket in that
// dir. When the process runs as root (PostgreSQL refuses root), the server
// runs as the `postgres` system user, or `nobody` when that does not exist.
//
// TLS files given in Config are copied into the data dir (key 0600, owned
// by the server's user); HBA rules and postgresql.conf settings are
// configurable. The superuser "postgres" is reachable over the unix socket
// without a password (`local all all trust`), which Exec and CreateRole use.
//
// Tests call Start, which fails the test when PostgreSQL is missing and
// stops the server in t.Cleanup; other code calls StartServer and Close.
package pgtest
