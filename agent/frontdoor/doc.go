// Package frontdoor takes one client connection to the agent's
// PostgreSQL-wire listener up to an authorized session or a clean refusal
// (DESIGN §6):
//
//	SSLRequest → 'S' → TLS (a client cert requested) → StartupMessage (a db
//	user required) → the cert unexpired and verified against the current
//	user CA pool, so rotations apply → identity from the cert (user +
//	database route) → database served here? → Authorizer → Session (or
//	Rejection)
//
// A GSSENCRequest is declined with 'N' and the client continues; a
// CancelRequest, plaintext or inside TLS (with or without a cert), goes to
// the CancelHandler; a plaintext StartupMessage gets a
// FATAL 28000 telling the person to use `toll db connect` or
// sslmode=verify-full with Tollgate certs. An empty `database` startup
// parameter becomes the db user's name before the decision; a
// `replication` parameter is refused unless the decision allows it; every
// startup parameter is kept for `session.started`.
//
// Refusals are sent as FATAL ErrorResponses with a SQLSTATE (28000 auth,
// 3D000 unknown database, 08P01 protocol violation, 53300 too many
// connections, 42501 replication) and returned as *Rejection carrying the
// schemas.SessionRejected payload. The caller records session.started or
// session.rejected and hands a Session to the relay.
//
// What is recorded of the client's input is bounded before anything is
// written (RecordedParams: each value at 512 bytes, all parameters at
// 4 KiB, flagged `truncated`); the Session keeps the startup whole. A
// Rejection says whether the client's cert was verified first
// (Authenticated): refusals that anyone could cause are rate-limited by
// the caller (agent/recordlimit).
package frontdoor
