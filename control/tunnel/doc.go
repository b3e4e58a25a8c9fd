// Package tunnel is control's side of agents' reverse tunnels (issue 17):
// Hub keeps each connected agent's multiplexed tunnel (an ALPN
// wire.ALPNTunnel connection on control's public port, the agent's host
// cert verified) and relays each client connection for a database (ALPN
// wire.ALPNDatabase, a user cert verified) onto a new stream of a tunnel
// of an agent serving it, without reading what the client and the agent
// say inside (their own TLS).
package tunnel
