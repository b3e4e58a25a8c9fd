// Package tunnel is an agent's side of its reverse tunnel to control
// (issue 17): Listener dials control's public port with ALPN
// wire.ALPNTunnel and the agent's host cert, keeps the connection
// multiplexed (yamux) and redials it with backoff when it drops; each
// stream control opens on it is a client connection, Accept returns it
// with the client's address from the stream's first frame.
package tunnel
