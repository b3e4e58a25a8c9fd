// Package pgwire is the agent's bounded framing of the PostgreSQL wire
// protocol (v3): startup packets (SSLRequest, GSSENCRequest, CancelRequest,
// StartupMessage) and typed messages (1-byte type + int32 length), each
// length checked against a limit before any allocation; SQLSTATE constants;
// and helpers that write ErrorResponse and ReadyForQuery to a client.
//
// Decoding of individual messages uses github.com/jackc/pgproto3/v2; this
// package only frames, so the relay can forward the original bytes.
package pgwire
