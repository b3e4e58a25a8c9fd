// Package format turns events into the documents export sinks deliver:
// native (the envelope JSON as stored), OCSF 1.3.0 and ECS. Each mapping is
// pinned by golden files under testdata/ over a sample of every event type
// (go test ./export/format -update rewrites them).
//
// OCSF and ECS read the data through schemas.DecodeAs and schemas.Upcast:
// an event written at an older schema version is mapped from its upcast,
// current form; one of a type or version this binary does not know is an
// error (the subscriber then delivers it as stored). schema_version (OCSF
// unmapped) and tollgate.v (ECS) stay the version the event was written at.
// Native is not upcast: it is the stored event, which the hash chain covers.
//
// OCSF classes used (schema 1.3.0):
//
//	query, query.result          Datastore Activity 6005, activity Query (4): type_uid 600504
//	session.cancel               Datastore Activity 6005, activity Other (99), named "Cancel"
//	auth.login                   Authentication 3002, Logon (1)
//	session.started/rejected     Authentication 3002, Logon (1), success/failure (database logon)
//	session.ended                Authentication 3002, Logoff (2)
//	user.created/deleted         Account Change 3001, Create (1) / Delete (6)
//	user.password_set            Account Change 3001, Password Change (3) or Password Reset (4)
//	user.invite_created          Account Change 3001, Other (99), named "Invite"
//	user.updated                 User Access Management 3005, Assign Privileges (1): the roles
//	every other type (role.*, token.*, agent.*, database.*, lock.*, ca.*, cluster.created,
//	control.host_cert_issued, cert.issued, audit.checkpoint)
//	                             Entity Management 3004, Create (1) / Update (3) / Delete (4),
//	                             by the type's name (created, registered, joined, cert.issued /
//	                             deleted, deregistered / the rest); the data under unmapped.data
//
// DESIGN §7 names "Role Management 3008"; OCSF 1.3.0 has no such class, so
// role changes are Entity Management 3004 and role assignment to users is
// User Access Management 3005.
//
// ECS (8.11) documents carry @timestamp, event.* (id, kind, category, type,
// action, outcome, dataset, duration, reason), user.name (user.target.name
// for a user.* change), related.user, source.address, agent.id, error.*
// (code, message) and the database fields db.name, db.user, db.db_name,
// db.system, db.statement, db.sqlstate (custom fields, named as
// OpenTelemetry's semantic conventions do), with the rest under tollgate.*
// (the envelope, and the data of a change as tollgate.data).
package format
