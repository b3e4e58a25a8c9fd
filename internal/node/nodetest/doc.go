// Package nodetest starts a real single node (embedded JetStream, control,
// HTTPS API on a free loopback port) for in-process CLI tests, stops it and
// starts it again on the same data dir, and joins test agents that write
// audit events through the agent's real publisher and checkpointer.
package nodetest
