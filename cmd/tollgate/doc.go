// Command tollgate is the Tollgate daemon: control, agent, embedded NATS
// JetStream and export in one process (tollgate start), plus setup helpers.
package main
