// Package lease runs background work on one process at a time: Run(ctx,
// name, fn) runs fn only while this process holds the lease name, a key
// in one NATS KV bucket (DefaultBucket, TOLLGATE_LEASES) whose entries
// the server removes TTL after they were last written.
//
// A process takes a free lease with a KV create (it fails when another
// holds it) and renews it every TTL/3 with an update conditioned on the
// revision it last wrote (revision CAS), so only the holder can renew.
// When a renewal is refused (another process holds the lease), or none
// has succeeded for 2/3 of the TTL (the log cannot be reached), fn's
// context is cancelled and the process tries to take the lease again.
// A process that stops renewing — crashed, cut off, or stopped without
// releasing — loses the lease when the server expires its entry, TTL
// after its last renewal, and another process takes it over then. Run
// releases the lease (a delete conditioned on its revision) when ctx ends
// or fn returns, so a clean stop hands over at once.
//
// The holder gives up 1/3 TTL before the server can expire its entry
// (its deadline counts from the moment it sent the last renewal that
// succeeded), so two holders' fns do not overlap as long as fn returns
// promptly once its context is cancelled and the hosts' clocks run at
// about the same rate; no clock is compared across hosts.
package lease
