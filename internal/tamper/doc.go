// Package tamper does to a stopped Tollgate's event store what an operator
// with access to NATS, and nothing else, can do: start a plain nats-server
// (nats-server/v2, no Tollgate code) on the JetStream store dir and change
// a stream through the JetStream API. Tests use it to show that audit
// verify sees it. It also rewrites events the way such an operator would
// (Rechain: hashes recomputed).
//
// The streams deny deleting and purging messages, and JetStream refuses
// turning that off (an update to DenyDelete=false is an error), so
// RewriteStream copies the stream's messages out, deletes the stream
// (allowed), creates it again with the same config and publishes back
// what the edit keeps.
package tamper
