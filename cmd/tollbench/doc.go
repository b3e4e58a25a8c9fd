// Command tollbench measures the gateway against a direct connection with
// pgbench (DESIGN §9): PostgreSQL with TLS and cert auth, a Tollgate node
// (embedded JetStream, control and two agents, strict and async) in this
// process, `pgbench -S` at 1 and 8 clients, new-session latency, and with
// --write a dated table appended to BENCHMARKS.md.
package main
