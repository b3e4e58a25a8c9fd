// Package agent is Tollgate's database gateway: the process part that
// accepts PostgreSQL-wire clients holding short-lived Tollgate certificates,
// decides locally from its own projection of the control stream whether a
// session may start, and relays it to the database with an ephemeral
// db_client certificate while publishing one audit event per query.
//
// Its subpackages, in the order a connection meets them:
//
//   - agent/config: the `tollgate:` (join) and `db_service:` sections of the
//     tollgate YAML config.
//   - agent/frontdoor: the client-facing listener up to the access decision
//     (startup packet, TLS with a user cert, identity, authorization).
//   - agent/pgwire: bounded framing and PostgreSQL error responses.
//   - agent/relay and agent/cancel: the audited relay and the
//     CancelRequest mapping.
package agent
