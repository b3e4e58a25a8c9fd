// Package difftest is the differential audit test's kit: random pipelined
// message sequences (Sequence, from a seeded math/rand or a fuzzer's
// bytes), the sequences of issue 9's attacks (Attacks), and Compare, which
// aligns a PostgreSQL's log_statement=all with the `query` events,
// statement by statement. agent/relay runs it through a relay session,
// agent/gateway through a whole agent. Used by tests only.
package difftest
