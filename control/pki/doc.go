// Package pki makes Tollgate's certificates: the four CAs (user, host, db,
// db_client; see schemas.CA*), their pins, the leaf certs each issues, the
// identity a user cert carries, trusted bundles, and the files `tollctl
// auth sign` writes.
//
// Every function takes its time explicitly (no clock inside) and draws
// serials and keys from crypto/rand. Keys are ECDSA P-256 by default,
// RSA-2048 on request.
//
// # Identity in a user cert
//
// A user cert (kinds "user" and "db") has CN = user name, ExtKeyUsage
// ClientAuth, and URI SANs the agent reads without any custom extension:
//
//	tollgate:user:<user>     who (path-escaped; must equal the CN)
//	tollgate:db:<route>      the database route, only on a route ("db") cert
//	tollgate:mfa-session-until:<unix seconds>
//	                         on a route cert issued after a one-time code
//	                         (require_mfa: session): how long the session
//	                         it opens may last (the cert itself: a minute)
//
// ParseIdentity reads them back (and the older `tollgate-route://<route>`
// form control used to write). Roles are not in the cert: they are read
// from the projection at each connection, so a role taken away takes
// effect without waiting for the cert to expire.
//
// # Leaf profiles
//
//	user, db    user CA       CN user              ClientAuth
//	host        host CA       CN host id, SANs     ServerAuth + ClientAuth
//	db_client   db_client CA  CN db user           ClientAuth; NotAfter ≤ Request.NotAfter (required)
//	db_server   db CA         CN given, SANs       ServerAuth (+ ClientAuth with Request.ClientAuth)
//
// CockroachDB presents node.crt both as a server and, to other nodes, as a
// client (its docs: the node certificate is "multi-functional"; it needs
// CN=node and both serverAuth and clientAuth), so its node.crt is issued
// with Request.ClientAuth; PostgreSQL server certs (WriteDB, WriteTLS) are
// ServerAuth only.
package pki
