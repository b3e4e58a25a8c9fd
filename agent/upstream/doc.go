// Package upstream opens the agent's connection to a database (DESIGN §6):
// SSLRequest, TLS with the session's ephemeral db_client cert, the server
// verified against ca_cert_file or the cluster's db CA (verify-full checks
// the server name, verify-ca only the chain), then the client's
// StartupMessage forwarded unchanged.
//
// Connect reads the server's first answer to the startup: a database that
// asks for a password instead of accepting the cert is reported as
// ErrPasswordRequired (the client is told the database must be set up for
// cert auth), a server ErrorResponse as *ServerError carrying its bytes to
// forward. A NegotiateProtocolVersion before it (the client asked for
// protocol 3.2 or `_pq_.` options the server lacks) is kept and forwarded
// too: the client, not the agent, decides whether the server's version
// will do. On success the returned connection replays those messages, so
// the relay sees the whole authentication exchange.
package upstream
