// Package auditpub publishes the agent's audit events: one Publisher per
// agent, shared by all sessions. Under one lock it links each event into
// the agent's hash chain (eventlog.Chainer), writes it to the on-disk spool
// (agent/spool) and queues it; one drainer goroutine sends what is spooled
// to the audit stream with Stream.AppendEncoded, group-committing the events
// of concurrent sessions that arrive while an append is in flight, and
// acknowledges the spool after each stored batch. Chain order is therefore
// spool order is append order. Each event's canonical JSON is built once,
// under the lock, and sent as is; a spooled event read back from disk
// is sent as the spool record it is. Events no PublishSync waits for
// linger briefly (Options.Linger) so one append carries many.
//
// The spool serves both audit modes: the agent (agent/gateway) opens the
// Publisher with one whenever it has a spool dir, strict or async, so that
// every event a session was told about (session.started, rejected, ended
// included) survives an outage of the log and a restart of the agent.
// Strict-mode sessions still wait for the log's ack: the spool adds a
// write to their wait, not a second durability.
//
// Strict-mode sessions call PublishSync and wait for the log's ack;
// async-mode sessions call TryPublishAsync, durable once it returns. After
// a crash, Open resumes the chain from the newest spooled event and sends
// the unacknowledged ones first; a batch that was stored but not yet
// acknowledged is sent again and stored once (event ids are JetStream
// message ids). When the spool is full, publishing fails with ErrBacklog
// and nothing is taken: the session refuses queries instead of losing
// their events. Without a spool (Options.Spool nil) events wait in memory.
//
// A Checkpointer anchors the chain: wrapped around the Chain the Publisher
// links with, it signs the chain head with the agent's host key as an
// audit.checkpoint event (the next event of the chain) at an interval while
// the head moves, after each session.ended, and at shutdown.
package auditpub
