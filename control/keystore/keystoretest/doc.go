// Package keystoretest is the conformance suite of control.Keys: Run checks
// one implementation (the file keystore, sealed or not; the NATS KV store)
// against what control relies on.
package keystoretest
