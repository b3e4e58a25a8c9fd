package eventlog

// DefaultMaxEventSize is the default bound on one stored event's JSON form
// (DESIGN §3): 64 KiB.
const DefaultMaxEventSize = 64 * 1024
