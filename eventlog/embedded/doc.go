// Package embedded runs a NATS server with JetStream inside the Tollgate
// process (DESIGN §8, single node and multi-host): by default it opens no
// network port and clients connect in-process; with Listen set it accepts
// network clients, optionally over TLS with client-certificate verification.
package embedded
