// Package cancel maps the agent's own BackendKeyData to the database's, so
// a CancelRequest (sent by clients on a new connection, which needs no
// certificate) can be matched and forwarded to the database over TLS with
// the right certificate. The agent's key keeps the server's process id and
// replaces only the secret (of the server's length: 4 bytes in protocol
// 3.0, up to 256 in 3.2); cancels are matched by (pid, secret), the secret
// in constant time. Only the cancels that match no session spend the
// source's budget (per IPv4 address or IPv6 /64), and a source past it is
// refused every cancel. Every attempt yields a schemas.SessionCancel. The
// caller records a forwarded cancel in full; the others (which anyone can
// send without a cert) go through agent/recordlimit, so a flood is
// summarised per source and window instead of written one event per
// packet.
package cancel
