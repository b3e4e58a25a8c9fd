package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-db/tollgate/internal/jsonx"
)

// AppendJSON appends ev's JSON in the canonical form of CanonicalBytes (key
// order, no whitespace, no HTML escaping), with "hash" when withHash is set:
// without it, the bytes the chain hashes; with it, the event as stored.
// ev.Data must be compact, valid JSON (see CompactData).
func AppendJSON(dst []byte, ev *Event, withHash bool) []byte {
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

// CompactData returns data valid and compact, as CanonicalBytes hashes it:
// data itself when it already is (no copy), else a compacted copy. Invalid
// JSON is an error.
func CompactData(data json.RawMessage) (json.RawMessage, error) {
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
	buf.Grow(len(data))
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	return buf.Bytes(), nil
}

// isCompact reports whether data has no whitespace outside its strings
// (it does not validate: CompactData does). Statements hold spaces, so a
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
