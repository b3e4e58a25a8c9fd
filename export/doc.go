// Package export holds what every export subscriber shares: the `export:`
// section of the tollgate YAML config (the fields every sink has; a sink
// type's own section is its package's Settings, which export knows through
// the SinkTypes it is given: export/sink.Types), the Sink interface each
// destination implements, and the errors a sink uses to ask for a retry.
//
// Delivery is at-least-once: a subscriber (package export/subscriber) acks a
// JetStream message only once its sink has accepted the event, and every
// delivered document carries the event id for de-duplication downstream.
package export
