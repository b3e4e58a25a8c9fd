package auditpub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tollgate-db/tollgate/eventlog"
)

// appendEvent appends ev's JSON in the canonical form of
// eventlog.CanonicalBytes (key order, no HTML escaping), with "hash" when
// withHash is set. ev.Data must be compact, valid JSON (see compactData).
func appendEvent(dst []byte, ev *eventlog.Event, withHash bool) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, ev.ID)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, ev.Type)
	dst = append(dst, `,"v":`...)
	dst = strconv.AppendInt(dst, int64(ev.V), 10)
	dst = append(dst, `,"time":"`...)
	dst = ev.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","source":`...)
	dst = appendString(dst, ev.Source)
	if ev.Actor != "" {
		dst = append(dst, `,"actor":`...)
		dst = appendString(dst, ev.Actor)
	}
	dst = append(dst, `,"subject":`...)
	dst = appendString(dst, ev.Subject)
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
		dst = appendString(dst, ev.Prev)
	}
	if withHash && ev.Hash != "" {
		dst = append(dst, `,"hash":`...)
		dst = appendString(dst, ev.Hash)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as encoding/json does with HTML escaping off.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// compactData returns data valid and compact, as CanonicalBytes hashes it.
func compactData(data json.RawMessage) (json.RawMessage, error) {
	if len(data) == 0 {
		return data, nil
	}
	if bytes.IndexAny(data, " \t\r\n") < 0 {
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
