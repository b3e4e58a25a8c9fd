// Package subscriber runs export sinks: for each configured sink and each of
// its streams, a durable JetStream pull consumer ("export-<sink>") whose
// messages are filtered, formatted, batched and written to the sink. A
// message is acked only once the sink accepted it and every message before
// it; failures are retried forever with exponential backoff (honoring a
// sink's Retry-After), so a destination that is down makes the lag grow
// and never loses an event. A restart resumes where the durable consumer
// stopped.
//
// The consumer's ack policy is all: one ack a batch, which acknowledges
// every message delivered before it. So that such an ack covers only what
// the sink accepted, the consumer delivers in order to one subscriber,
// which checks that no delivery was skipped (deliver.go). A consumer that
// holds deliveries not acked at start (a process stopped mid-batch), one
// whose deliveries skipped, and one of another ack policy (an older
// release acked each message) are recreated to resume just after their ack
// floor: what they had delivered past it is exported again, nothing is
// skipped (consumer.go). While the sink writes a full batch, the next one
// is already being fetched.
//
// Lag (pending plus unacknowledged messages of each consumer) is exported
// as the Prometheus gauge tollgate_export_lag_events{sink,stream} on the
// registry passed in, and returned by Status for `tollctl export status`.
package subscriber
