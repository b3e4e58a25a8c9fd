// Package eventlog is Tollgate's event log: the envelope every fact travels
// in, the Stream interface that control, agents and exporters append to and
// read from, the subject naming scheme that makes auditors' questions cheap
// server-side filters, and the audit hash chain.
//
// Two implementations of Stream exist: a JetStream one (package
// eventlog/jetstream, with an embedded server in eventlog/embedded) and an
// in-memory one (eventlog/memlog). Both pass the conformance suite in
// eventlog/logtest.
package eventlog
