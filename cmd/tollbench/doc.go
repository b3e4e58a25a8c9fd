// Command tollbench measures the gateway against a direct connection with
// pgbench (DESIGN §9), as a deployment looks: it builds tollgate, tollctl
// and toll from this module and runs control (with its embedded NATS
// JetStream) as one process and each agent (strict, async) as another,
// joined with a token and publishing over its TLS NATS connection, all
// set up through the CLI as the README's seed guide does; an agent on an
// external nats-server (built from the nats-server module) with a control
// of its own; PostgreSQL with TLS and cert auth; pgbouncer and a bare Go
// copy relay as the peers.
//
// `pgbench -S` runs at 1 and 8 clients against each. Around every run it
// reads each process's CPU time and context switches from /proc and
// reports them per query, with TPS, p50 and new-session latency; with
// --profile it also records perf CPU profiles of the daemons and counts
// their system calls; with --write it appends the dated tables to
// BENCHMARKS.md. BENCHMARKS.md says what each number counts.
package main
