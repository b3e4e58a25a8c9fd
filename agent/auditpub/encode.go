package auditpub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/jsonx"
)

// appendEvent appends ev's JSON in the canonical form of
// eventlog.CanonicalBytes (key order, no HTML escaping), with "hash" when
// withHash is set. ev.Data must be compact, valid JSON (see compactData).
func appendEvent(dst []byte, ev *eventlog.Event, withHash bool) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, ev.ID, false)
	dst = append(dst, `,"type":`...)
	dst = jsonx.AppendString(dst, ev.Type, false)
	dst = append(dst, `,"v":`...)
	dst = strconv.AppendInt(dst, int64(ev.V), 10)
	dst = append(dst, `,"time":"`...)
	dst = ev.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","source":`...)
	dst = jsonx.AppendString(dst, ev.Source, false)
	if ev.Actor != "" {
		dst = append(dst, `,"actor":`...)
		dst = jsonx.AppendString(dst, ev.Actor, false)
	}
	dst = append(dst, `,"subject":`...)
	dst = jsonx.AppendString(dst, ev.Subject, false)
	dst = append(dst, `,"data":`...)
	if len(ev.Data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, ev.Data...)
	}
	if ev.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, ev.Seq, 10)
	}
	if ev.Prev != "" {
		dst = append(dst, `,"prev":`...)
		dst = jsonx.AppendString(dst, ev.Prev, false)
	}
	if withHash && ev.Hash != "" {
		dst = append(dst, `,"hash":`...)
		dst = jsonx.AppendString(dst, ev.Hash, false)
	}
	return append(dst, '}')
}

// compactData returns data valid and compact, as CanonicalBytes hashes it.
func compactData(data json.RawMessage) (json.RawMessage, error) {
	if len(data) == 0 {
		return data, nil
	}
	if isCompact(data) {
		if !json.Valid(data) {
			return nil, fmt.Errorf("event data is not valid JSON")
		}
		return data, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	return buf.Bytes(), nil
}

// isCompact reports whether data has no whitespace outside its strings
// (it does not validate: compactData does). Statements hold spaces, so a
// plain search for whitespace sent nearly every query event to
// json.Compact and its copy.
func isCompact(data []byte) bool {
	inStr := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ', c == '\t', c == '\r', c == '\n':
			return false
		}
	}
	return true
}

// Chain is the agent's hash chain (eventlog.Chainer's definition, with an
// allocation-light encoder): each event gets the next sequence, the
// previous hash and its own. The Publisher calls it under its lock.
type Chain struct {
	seq  uint64
	hash string
	buf  []byte
}

var _ Chainer = (*Chain)(nil)

// NewChain continues a chain whose last event had lastSeq and lastHash (0
// and "" for a new chain).
func NewChain(lastSeq uint64, lastHash string) *Chain {
	return &Chain{seq: lastSeq, hash: lastHash}
}

// Link stamps ev with Seq, Prev and Hash. ev.Data must be compact JSON.
func (c *Chain) Link(ev *eventlog.Event) error {
	ev.Seq, ev.Prev, ev.Hash = c.seq+1, c.hash, ""
	c.buf = appendEvent(c.buf[:0], ev, false)
	sum := sha256.Sum256(c.buf)
	ev.Hash = hex.EncodeToString(sum[:])
	c.seq, c.hash = ev.Seq, ev.Hash
	return nil
}

// Head returns the last linked sequence and hash.
func (c *Chain) Head() (uint64, string) { return c.seq, c.hash }

// Reset moves the head back (an event linked but not spooled).
func (c *Chain) Reset(seq uint64, hash string) { c.seq, c.hash = seq, hash }
