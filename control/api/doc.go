// Package api is control's HTTPS API: TLS 1.3 on control's host cert,
// client certs from the user or host CA verified against the trusted set
// of the current projection (so CA rotation applies at once), authorization
// by role rules from the projection. Each call of control/wire's table is
// mounted on a method of the service's concepts (routes.go, mount.go); the
// open ones (ping, CA fetch, login, signup, join) need no client cert.
// Every error body is {"code","message"}; its HTTP status follows the code
// (status, errors.go).
package api
