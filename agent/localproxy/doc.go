// Package localproxy is the engine of `toll proxy db`: a plain PostgreSQL
// listener on loopback for clients that cannot present Tollgate certs
// (GUIs, ORMs, pgbench). Each client connection is accepted in plaintext
// (an SSLRequest or GSSENCRequest is answered 'N'), then the proxy opens
// TLS to the agent with the user's database route cert, forwards the
// client's StartupMessage unchanged and relays bytes both ways.
// CancelRequests are forwarded to the agent as they came, which maps them
// to the right session (DESIGN §6).
package localproxy
