// Package wire holds the JSON request and response bodies of control's
// HTTPS API, shared by the server (control/api) and its client
// (control/client).
package wire
