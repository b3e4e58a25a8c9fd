// Package jetstream implements eventlog.Stream on NATS JetStream (DESIGN §3):
// Provision creates the TOLLGATE_CONTROL and TOLLGATE_AUDIT streams, Stream
// appends with Nats-Msg-Id de-duplication and expected-last-subject-sequence
// concurrency control and reads through ephemeral ordered pull consumers, and
// Open connects to an embedded or external server or cluster. Streams that
// exist with other settings fail Provision (ErrStreamMismatch).
package jetstream
