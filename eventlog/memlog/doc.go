// Package memlog is an in-memory eventlog.Stream for tests and for tools that
// need a log without a server. It keeps the same contracts as the JetStream
// implementation (de-duplication by event id, per-subject optimistic
// concurrency, the size bound, gap-free Follow) and runs eventlog/logtest.
package memlog
