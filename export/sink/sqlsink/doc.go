// Package sqlsink is the SQL warehouse export sink: one table in
// CockroachDB or PostgreSQL, created if missing, with the event id as
// primary key. Each batch is inserted with INSERT … ON CONFLICT (id) DO
// NOTHING inside one transaction run by cockroach-go's crdb.ExecuteTx, which
// retries serialization failures, so a batch delivered twice (after a crash
// between insert and ack) is stored once.
//
// The formatted document goes to a JSONB column; since JSONB cannot hold
// the NUL character, a "\u0000" escape in a document is stored as the text
// "\\u0000". Its settings are the sink's sql: section (Config, SinkType).
package sqlsink
