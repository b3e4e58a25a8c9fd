// Package auditpub publishes the agent's audit events: one Publisher per
// agent, shared by all sessions, links each event into the agent's hash
// chain in append order and group-commits the events of concurrent
// sessions with one Stream.AppendBatch while the previous one is in flight.
//
// Strict-mode sessions call PublishSync and wait for the ack; async-mode
// sessions and query results use PublishAsync, which queues in memory and
// retries until stored. A failed batch is kept, already chained, and
// retried first, so the chain has no gap and no event is lost while the
// queue bound holds. (A durable on-disk spool for async mode is not built
// yet: events queued in memory are lost if the process dies.)
package auditpub
