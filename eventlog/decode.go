package eventlog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// DecodeEvent decodes an event's JSON form into ev, with the same result as
// json.Unmarshal into a zero Event. The common form (as json.Marshal writes
// it: known keys, strings without escapes) takes a fast path that allocates
// one string for all text fields; ev.Data then aliases data, so data must not
// be modified afterwards. Anything else falls back to json.Unmarshal.
func DecodeEvent(data []byte, ev *Event) error {
	if !utf8.Valid(data) {
		return decodeSlow(data, ev)
	}
	return decodeEvent(data, string(data), ev)
}

// DecodeEventOwned is DecodeEvent for a buffer handed over to the event:
// the fast path copies nothing, so ev's strings as well as ev.Data alias
// data. The caller must never modify or reuse data afterwards, nor may
// anyone else holding it: it suits a buffer allocated for this one message
// (a NATS client message), not a reader's reused buffer. Whatever keeps a
// string of ev keeps all of data alive.
func DecodeEventOwned(data []byte, ev *Event) error {
	if !utf8.Valid(data) {
		return decodeSlow(data, ev)
	}
	return decodeEvent(data, unsafe.String(unsafe.SliceData(data), len(data)), ev)
}

// decodeEvent decodes valid UTF-8 data, of which s holds the same bytes
// (a copy or data itself).
func decodeEvent(data []byte, s string, ev *Event) error {
	*ev = Event{}
	if decodeFast(data, s, ev) {
		return nil
	}
	return decodeSlow(data, ev)
}

func decodeSlow(data []byte, ev *Event) error {
	*ev = Event{}
	if err := json.Unmarshal(data, ev); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	return nil
}

// decodeFast decodes the common form; strings are cut from s.
func decodeFast(data []byte, s string, ev *Event) bool {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return skipWS(s, i+1) == len(s)
	}
	for {
		key, j, ok := plainString(s, i)
		if !ok {
			return false
		}
		i = skipWS(s, j)
		if i >= len(s) || s[i] != ':' {
			return false
		}
		i = skipWS(s, i+1)
		switch key {
		case "id", "type", "source", "actor", "subject", "prev", "hash", "time":
			v, j, ok := plainString(s, i)
			if !ok {
				return false
			}
			i = j
			switch key {
			case "id":
				ev.ID = v
			case "type":
				ev.Type = v
			case "source":
				ev.Source = v
			case "actor":
				ev.Actor = v
			case "subject":
				ev.Subject = v
			case "prev":
				ev.Prev = v
			case "hash":
				ev.Hash = v
			case "time":
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil || len(v) < len("2006-01-02T15:04:05Z") || v[10] != 'T' || v[len(v)-1] != 'Z' && v[len(v)-6] != '+' && v[len(v)-6] != '-' {
					return false
				}
				ev.Time = t
			}
		case "v", "seq":
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i || j-i > 18 || (s[i] == '0' && j-i > 1) {
				return false
			}
			n, err := strconv.ParseUint(s[i:j], 10, 64)
			if err != nil {
				return false
			}
			if key == "v" {
				ev.V = int(n)
			} else {
				ev.Seq = n
			}
			i = j
		case "data":
			j, ok := validValue(s, i)
			if !ok {
				return false
			}
			ev.Data = json.RawMessage(data[i:j:j])
			i = j
		default:
			return false
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return false
		}
		if s[i] == '}' {
			return skipWS(s, i+1) == len(s)
		}
		if s[i] != ',' {
			return false
		}
		i = skipWS(s, i+1)
	}
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// plainString reads a JSON string at s[i] that has no escapes and no
// control characters, returning its content and the index after it.
func plainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}
