// Package node composes the tollgate daemon: it opens the event log
// (embedded NATS JetStream or an external server), runs control and its
// HTTPS API, and runs any further components (agent, export) from a list,
// until its context ends.
package node
