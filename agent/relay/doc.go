// Package relay relays one PostgreSQL-wire session between a client and a
// database, both already connected (TLS done), and records every query.
//
// The boundary: the caller has completed TLS on both sides, read the
// client's StartupMessage, decided to admit it and forwarded the startup
// packet unchanged to the server. Session.Run then takes over: it relays
// the authentication exchange, substitutes the agent's own BackendKeyData
// for the server's (Config.MapBackendKey), and from then on frames every
// message, forwarding the original bytes unchanged.
//
// Client → server, the tracker follows prepared statements and portals
// (named and unnamed, Parse/Bind/Close/Sync semantics, with the server's
// successes and failures applied back) so each simple Query and each
// extended Execute yields exactly one `query` event. Server → client,
// CommandComplete, ErrorResponse, EmptyQueryResponse and PortalSuspended are
// matched back in order and yield one `query.result` each.
//
// In strict mode (the default) the client bytes of a read batch are
// forwarded only after its query events are acknowledged by the Publisher;
// if publishing fails, nothing of the batch is forwarded and the client gets
// SQLSTATE 58000 with the protocol kept in step (see Session). In async mode
// the bytes are forwarded as soon as the Publisher has taken the events
// (TryPublishAsync: durable in its spool, no wait for the log); when it
// cannot, the batch is refused the same way, with the reason.
package relay
