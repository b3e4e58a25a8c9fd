// Package oidctest runs a real OpenID Provider for tests: zitadel/oidc's
// example provider (its op package: discovery, authorization with PKCE,
// token endpoint, signed ID tokens, userinfo) with the users a test
// gives, a groups claim, and two clients of Tollgate's: a public native
// one (loopback redirects on any port, PKCE) and a confidential one
// (client secret). Login drives its login form as a browser would.
//
// It is a test helper: only tests import it.
package oidctest
