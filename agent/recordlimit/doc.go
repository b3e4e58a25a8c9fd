// Package recordlimit bounds what an unauthenticated peer can make the
// agent record (DESIGN §6, issue 9 §4). A CancelRequest or a connection
// refused before its client certificate was verified costs the sender
// nothing, yet each would be an audit event: without a bound, one host
// fills the audit log (and the log's disk) at line rate.
//
// Per source (an IPv4 address, or an IPv6 /64, since one host holds a
// whole /64) and per kind of event, the first Burst events of a Window are
// recorded in full; the rest are counted, and once the window is over one
// summary event says how many were not recorded one by one (the
// `suppressed` field) and describes the last of them. So the events of a
// source add up: recorded in full + the sum of suppressed = sent.
//
// Memory is bounded too: at most MaxSources (source, kind) entries are
// tracked, each holding one small payload. Events from further sources
// while the table is full get no budget of their own: they are counted in
// one overflow entry per kind, summarised the same way.
package recordlimit
