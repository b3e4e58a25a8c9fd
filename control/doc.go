// Package control is Tollgate's control plane service: it bootstraps a
// cluster (cluster name, CAs, built-in roles, a local admin identity), folds
// TOLLGATE_CONTROL into a projections.State, and turns API commands into
// events: validate against the projection, append with the entity's
// last-subject-sequence expectation, wait until its own projection applied
// the event (read your writes), answer from the state.
//
// The commands and queries are grouped by concept, each a small type over
// the Service (svc.Users(), Roles, Tokens, Locks, Databases, Agents, Certs,
// CAs, Cluster, Auth, Audit); the Service keeps the core they share and its
// own lifecycle and identity. Refusals are *Error values with a Code
// (errors.go); the HTTP status each is answered with is control/api's.
//
// Certificates are made with control/pki; CA private keys (by key id),
// password hashes (argon2id from control/secret, as secret
// "password/<user>") live in a Keys store: control/keystore under
// <data-dir>/keystore, optionally sealed with a key file
// (Config.SealKeyFile, config `control.seal_key_file`), or, shared by
// several controls, the sealed NATS KV bucket of control/keystore/natskv
// (Config.Keys, config `control.keystore: nats`). Control's own host cert
// and key stay in its data dir's keystore either way. Tokens and invites
// are control/secret values; only their hashes are stored.
//
// Control's own host cert (HTTPS API) is kept in the keystore and renewed
// when less than a third of ServerCertTTL is left, at start and at the next
// TLS handshake (CertificateSource), and when a host CA rotation moves host
// certs to the new key. An agent's host cert (HostCertTTL) is renewed by
// the agent, authenticated by its current one (Agents.Renew, POST
// /v1/agents/renew), when less than a third of it is left or the host CA
// signs with a new key; agent.updated records the new cert.
//
// Control's audit events (auth.login, cert.issued) carry the session token
// ChainSession ("control"), so the head of control's hash chain is the last
// message on ChainFilter, found without reading the audit stream. Control
// signs that head with its host key (audit.checkpoint, RunCheckpoints and
// Checkpoint) after recording the host cert on the control stream
// (control.host_cert_issued); agent.joined and agent.updated record each
// agent's host cert, so audit verify checks every source's checkpoints
// with keys from the control stream.
//
// Auditors' questions (audit search, audit session, access at, audit
// verify) go through auditquery and need the audit rules (auditor role).
//
// The HTTPS API lives in control/api, its client in control/client, the
// calls and bodies both share in control/wire. The identity on disk the
// local admin is written as is internal/profile.
package control
