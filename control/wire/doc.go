// Package wire is control's HTTPS API as both sides see it: every call
// defined once (calls.go: method, path pattern, request and answer types,
// open or authenticated; how a request travels, request.go) and the JSON
// bodies. The server (control/api) mounts each call and the client
// (control/client) calls through the same one, so a path is written in
// one place. It imports no part of control but pki.
package wire
