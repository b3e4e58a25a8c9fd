// Package e2e holds the end-to-end test: it builds tollgate, tollctl and
// toll, and follows the seed guide (Teleport's "Database Access with
// Self-Hosted CockroachDB") step by step with the built binaries as
// separate processes, a real PostgreSQL standing in for the CockroachDB
// node, the real psql and pgbench.
package e2e
