// Package pgwire is the bounded framing of the PostgreSQL wire
// protocol (v3): startup packets (SSLRequest, GSSENCRequest, CancelRequest,
// StartupMessage) and typed messages (1-byte type + int32 length), each
// length checked against a limit before any allocation; SQLSTATE constants;
// and helpers that write ErrorResponse and ReadyForQuery to a client.
//
// A message's type byte is typed by its direction: ClientMsg for what a
// client sends, ServerMsg for what a server sends (the same byte means
// different messages: 'S' is Sync or ParameterStatus, 'C' Close or
// CommandComplete). A Reader reads one side: NewClientReader's frames have
// a ClientMsg type, NewServerReader's a ServerMsg, and the compiler
// refuses to compare one with the other side's constants.
//
// Message bodies are decoded with github.com/jackc/pgproto3/v2 through
// Decode, which turns its panics on hostile input into ErrMalformed; this
// package frames, so the relay can forward the original bytes. Startup
// packets and BackendKeyData it decodes by hand: pgproto3/v2 refuses any
// protocol but 3.0 and keys other than 4 bytes (3.2's run to 256).
package pgwire
