// Package agent is Tollgate's database gateway: the process part that
// accepts PostgreSQL-wire clients holding short-lived Tollgate certificates,
// decides locally from its own projection of the control stream whether a
// session may start, and relays it to the database with an ephemeral
// db_client certificate while publishing one audit event per query.
//
// Its subpackages, in the order a connection meets them:
//
//   - agent/config: the `tollgate:` (join) and `db_service:` sections of the
//     tollgate YAML config (internal/node builds the gateway's options from
//     them).
//   - agent/join: joining with a token, the host identity on disk and its
//     renewal, and the ControlPlane the agent asks for db_client certs.
//   - agent/gateway: the agent runtime: projection follower, accept loop,
//     sessions, locks and cert expiry ending them, drain, reload.
//   - agent/frontdoor: the client-facing listener up to the access decision
//     (startup packet, TLS with a user cert, identity, authorization).
//   - agent/recordlimit: the bound on what unauthenticated clients make the
//     agent record.
//   - agent/upstream: TLS to the database with the db_client cert.
//   - agent/relay: the audited relay and its statement tracker
//     (agent/relay/difftest: its differential test kit).
//   - agent/cancel: the agent's cancel secrets and CancelRequest routing.
//   - agent/auditpub and agent/spool: the audit publisher (chain,
//     checkpoints, group commit) and its on-disk queue.
//   - agent/metrics: Prometheus collectors and /healthz.
//   - agent/localproxy: the engine of `toll proxy db` on a user's machine.
//
// The PostgreSQL framing the agent relays with is internal/pgwire (control's
// public port reads startup packets too).
package agent
