// Command tollbench measures the gateway against a direct connection with
// pgbench (DESIGN §9), as a deployment looks: it builds tollgate, tollctl
// and toll from this module and runs control (with its embedded NATS
// JetStream) as one process and each agent (strict, async) as another,
// joined with a token and publishing over its TLS NATS connection, all
// set up through the CLI as the README's seed guide does; PostgreSQL with
// TLS and cert auth; pgbouncer and a bare Go copy relay as the peers.
// `pgbench -S` runs at 1 and 8 clients against each, then new-session
// latency is timed; with --write a dated table is appended to
// BENCHMARKS.md.
package main
