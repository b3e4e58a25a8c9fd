// Package web is the web console control serves under /web on its HTTPS
// port: server-rendered pages (html/template, assets embedded with
// go:embed, no CDN, a little JavaScript) for what auditors and admins
// would rather look at than type — the audit search with paging, a
// session's timeline with its chain status, live sessions and locks,
// access at a time, access requests, and the cluster.
//
// A console session is a sealed cookie (HttpOnly, Secure,
// SameSite=Strict) from control.Auth.ConsoleLogin: any control opens it.
// Every change is a POST carrying the session's CSRF token. Pages call
// the same service methods as the API with the session's caller, so a
// user sees and does exactly what their roles allow. Every answer has a
// strict Content-Security-Policy.
package web
