package eventlog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
)

// CanonicalBytes returns the bytes an audit event's hash is computed over.
// This definition is a contract with external (SIEM) verifiers:
//
//   - Take the event with "hash" removed (Hash set to "").
//   - Compact "data": remove insignificant whitespace outside strings
//     (as encoding/json.Compact does); string contents and escapes are kept
//     byte for byte.
//   - Encode it as one JSON object with no whitespace, keys in this order:
//     "id", "type", "v", "time", "source", "actor" (omitted when empty),
//     "subject", "data", "seq" (omitted when 0), "prev" (omitted when empty).
//     Strings are escaped as encoding/json does without HTML escaping: '"',
//     '\\' and control characters are escaped (\n, \r, \t, else \u00XX), as
//     are U+2028 and U+2029; "<", ">", "&" and other text pass as UTF-8.
//     "time" is RFC 3339 with nanoseconds, trailing fractional zeros
//     removed, as stored in the event (audit events use UTC, "Z").
//
// The hash is the lower-case hex SHA-256 of these bytes. A verifier can
// equally recompute it from the stored JSON by dropping "hash", compacting
// and re-encoding in this key order.
func CanonicalBytes(ev *Event) ([]byte, error) {
	data, err := CompactData(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("canonical event %s: %w", ev.ID, err)
	}
	cp := *ev
	cp.Data = data
	return AppendJSON(make([]byte, 0, len(data)+256), &cp, false), nil
}

// EventHash returns the hex SHA-256 of CanonicalBytes(ev).
func EventHash(ev *Event) (string, error) {
	b, err := CanonicalBytes(ev)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Chainer links the audit events of one source into a hash chain: each
// event gets the next per-source sequence, the previous event's hash, and
// its own hash. It is the one implementation of the chain (control's
// auditor and the agent's publisher both use it). It is safe for concurrent
// use; events must then be appended in the order Next was called, and an
// event that Next stamped must be appended (retried with the same id) or
// the chain shows a gap, unless the caller moves the head back with Reset.
type Chainer struct {
	mu   sync.Mutex
	seq  uint64
	hash string
	buf  []byte
}

// NewChainer continues a chain whose last event had sequence lastSeq and
// hash lastHash (0 and "" for a new chain).
func NewChainer(lastSeq uint64, lastHash string) *Chainer {
	return &Chainer{seq: lastSeq, hash: lastHash}
}

// Next compacts ev.Data (in place, as CanonicalBytes hashes it) and sets
// ev.Seq, ev.Prev and ev.Hash. On an error (data not valid JSON) the chain
// does not advance and ev is unchanged.
func (c *Chainer) Next(ev *Event) error {
	data, err := CompactData(ev.Data)
	if err != nil {
		return fmt.Errorf("chain event %s: %w", ev.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ev.Data = data
	ev.Seq, ev.Prev, ev.Hash = c.seq+1, c.hash, ""
	c.buf = AppendJSON(c.buf[:0], ev, false)
	sum := sha256.Sum256(c.buf)
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
	ev.Hash = hex.EncodeToString(sum[:])
	c.seq, c.hash = ev.Seq, ev.Hash
	return nil
}

// Last returns the sequence and hash of the last chained event.
func (c *Chainer) Last() (uint64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq, c.hash
}

// Reset moves the head back to seq and hash (as returned by Last): the
// events stamped since were not stored and will not be.
func (c *Chainer) Reset(seq uint64, hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq, c.hash = seq, hash
}
