// Package relay relays one PostgreSQL-wire session between a client and a
// database, both already connected (TLS done), and records every query.
//
// The boundary: the caller has completed TLS on both sides, read the
// client's StartupMessage, decided to admit it and forwarded the startup
// packet unchanged to the server. Session.Run then takes over: it relays
// the authentication exchange, substitutes the agent's own secret for the
// server's in BackendKeyData, keeping the server's process id
// (Config.MapBackendKey; 4-byte keys in protocol 3.0, up to 256 bytes in
// 3.2), and from then on frames every
// message, forwarding the original bytes unchanged.
//
// Client → server, the tracker (tracker.go; tracker_client.go and
// tracker_server.go say, as a table, what each message does) records
// each simple Query, each extended Execute and each FunctionCall as
// exactly one `query` event, with the text the server runs. It follows the server, not a
// prediction: its statements and portals change only on the server's
// answers (ParseComplete, BindComplete, CloseComplete, and the command tags
// of SQL PREPARE, DEALLOCATE [ALL], DISCARD ALL, DECLARE, CLOSE [ALL], whose
// names sqleffects.go reads from the statement and checks against the tag).
// Names are keyed as the server keys them (63 bytes). A message that reads
// a name takes it from the latest write of its own sync group — if that
// write fails the server skips to Sync and the reader never runs — else
// from the state, waiting for earlier unanswered groups that may change it.
// After an error the server ignores everything up to Sync, Queries inside
// the group included; so does the tracker. A Bind or Execute whose name
// the agent cannot resolve to a text is refused: a poison Bind that always
// fails goes in its place (so the transaction fails as it would have) and
// the client gets a 26000/34000 error saying why. What the tracker cannot
// see — names created or dropped by SQL inside functions or DO blocks — is
// the limit docs/AUDIT.md states. Server → client, the answers are matched
// back in order, and each recorded query gets one `query.result`: an
// Execute's at its CommandComplete, EmptyQueryResponse or PortalSuspended,
// a Query's and a FunctionCall's at their ReadyForQuery. One the server
// failed or skipped gets its error at the group's ReadyForQuery, or at
// once when the group had failed before it was sent.
//
// differential_test.go checks all this against a real PostgreSQL's
// log_statement=all, statement by statement, over random pipelined
// sequences (a bounded seeded run and FuzzAuditMatchesServer).
//
// Memory per session is bounded: past maxInflight messages awaiting the
// server the client is not read (backpressure), and the messages of a
// group the server already failed are not queued at all.
//
// In strict mode (the default) the client bytes of a read batch are
// forwarded only after its query events are acknowledged by the Publisher;
// if publishing fails, nothing of the batch is forwarded and the client gets
// SQLSTATE 58000 with the protocol kept in step (see Session). In async mode
// the bytes are forwarded as soon as the Publisher has taken the events
// (TryPublishAsync: durable in its spool, no wait for the log); when it
// cannot, the batch is refused the same way, with the reason.
package relay
