// Package subscriber runs export sinks: for each configured sink and each of
// its streams, a durable JetStream pull consumer ("export-<sink>") whose
// messages are filtered, formatted, batched and written to the sink. A
// message is acked only once the sink accepted it; failures are retried
// forever with exponential backoff (honoring a sink's Retry-After), so a
// destination that is down makes the lag grow and never loses an event. A
// restart resumes where the durable consumer stopped.
//
// Lag (pending plus unacknowledged messages of each consumer) is exported
// as the Prometheus gauge tollgate_export_lag_events{sink,stream} on the
// registry passed in, and returned by Status for `tollctl export status`.
package subscriber
