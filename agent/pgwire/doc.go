// Package pgwire is the agent's bounded framing of the PostgreSQL wire
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
// Decoding of individual messages uses github.com/jackc/pgproto3/v2; this
// package only frames, so the relay can forward the original bytes.
package pgwire
