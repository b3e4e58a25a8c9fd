// Package client is the typed Go client of control's HTTPS API, used by
// tollctl, toll and agents: each method calls through a call of
// control/wire's table. It speaks TLS 1.3 and presents a profile's user
// cert (internal/profile) or an agent's host cert; first contact with a
// cluster checks the host CA pin. A client given several control
// addresses fails over between them on connection failures (Client).
package client
