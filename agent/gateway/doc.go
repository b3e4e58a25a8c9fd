// Package gateway is the agent's runtime: it folds the control stream into
// its own projections.State, accepts PostgreSQL-wire clients on
// its listen address and takes each one through the front door (TLS with a user
// cert, identity, catalog, access decision from the projection), records
// session.started or session.rejected, gets a per-session db_client cert
// from control (cached per db user and database until near expiry),
// connects to the database over verified TLS (agent/upstream) and relays
// with a per-query audit (agent/relay), mapping BackendKeyData so
// CancelRequests work without a local proxy (agent/cancel). Each session
// ends with session.ended.
//
// A watcher ends live sessions when a lock that matches them is applied,
// when the user's cert (or the role's max session TTL) expires, and after
// the idle timeout. Reload takes the new Reloadable from Options.Reloader
// and re-reads the identity; Run, when its context ends, drains: it stops
// accepting, lets in-flight queries finish within the grace period and
// ends the sessions with session.ended (reason shutdown).
//
// The gateway takes plain Options (durations, addresses, loaded CA pools,
// typed selectors): the YAML is the composition root's (internal/node
// builds the Options from agent/config).
//
// The agent keeps serving from the last state it has while the event log
// or control is away; in strict mode queries are then refused (58000).
package gateway
