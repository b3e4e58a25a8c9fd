// Package export holds what every export subscriber shares: the `export:`
// section of the tollgate YAML config, the Sink interface each destination
// implements, and the errors a sink uses to ask for a retry.
//
// Delivery is at-least-once: a subscriber (package export/subscriber) acks a
// JetStream message only once its sink has accepted the event, and every
// delivered document carries the event id for de-duplication downstream.
package export
