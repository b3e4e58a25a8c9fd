// Package nodetest starts a real single node (embedded JetStream, control,
// HTTPS API on a free loopback port) for in-process CLI tests.
package nodetest
