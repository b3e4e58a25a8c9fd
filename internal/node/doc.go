// Package node composes the tollgate daemon: it opens the event log
// (embedded NATS JetStream or an external server), runs control and its
// HTTPS API, the agent (a db_service section: the gateway, with options
// built here from the YAML) and the export subscribers (an export
// section), until its context ends. Each part gets what it needs as
// explicit values; Env is what Options.Ready sees of the running node.
package node
