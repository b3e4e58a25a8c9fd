// Package localproxy is the engine of `toll proxy db`: a plain PostgreSQL
// listener on loopback for clients that cannot present Tollgate certs
// (GUIs, ORMs, pgbench). Each client connection is accepted in plaintext
// (an SSLRequest or GSSENCRequest is answered 'N'), then the proxy opens
// TLS to the agent with the user's database route cert, forwards the
// client's StartupMessage unchanged (any protocol 3.x) and relays bytes
// both ways; when the agent ends the session, what it sent last (the
// server's FATAL) reaches the client before its connection closes.
// CancelRequests (3.0's 4-byte keys, 3.2's up to 256 bytes) are forwarded
// to the agent as they came, which maps them to the right session
// (DESIGN §6).
package localproxy
