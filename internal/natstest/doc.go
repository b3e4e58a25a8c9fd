// Package natstest runs real nats-server processes for tests: one node or
// a cluster of N on loopback, each with JetStream in a store dir of its
// own, client and route ports chosen free (never fixed), optionally TLS on
// the client port with certs it makes. The binary is built from the
// nats-server module at the version go.mod requires, once per test
// binary. A node can be stopped and started again on the same ports and
// store.
package natstest
