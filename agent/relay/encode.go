package relay

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/tollgate-db/tollgate/schemas"
)

// Hand-rolled JSON encoders for the two hot events. They produce what
// encoding/json would (field order and omitempty as in schemas), without
// reflection; encode_test.go checks them against encoding/json.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as with encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
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

func appendQueryJSON(dst []byte, q *schemas.Query) []byte {
	dst = append(dst, `{"session_id":`...)
	dst = appendJSONString(dst, q.SessionID)
	dst = append(dst, `,"n":`...)
	dst = strconv.AppendUint(dst, q.N, 10)
	dst = append(dst, `,"kind":`...)
	dst = appendJSONString(dst, q.Kind)
	dst = append(dst, `,"statement":`...)
	dst = appendJSONString(dst, q.Statement)
	if q.StatementName != "" {
		dst = append(dst, `,"statement_name":`...)
		dst = appendJSONString(dst, q.StatementName)
	}
	if q.Portal != "" {
		dst = append(dst, `,"portal":`...)
		dst = appendJSONString(dst, q.Portal)
	}
	if len(q.Params) > 0 {
		dst = append(dst, `,"params":[`...)
		for i, p := range q.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"format":`...)
			dst = appendJSONString(dst, p.Format)
			if p.Value != "" {
				dst = append(dst, `,"value":`...)
				dst = appendJSONString(dst, p.Value)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if q.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	if q.SHA256 != "" {
		dst = append(dst, `,"sha256":`...)
		dst = appendJSONString(dst, q.SHA256)
	}
	return append(dst, '}')
}

func appendResultJSON(dst []byte, r *schemas.QueryResult) []byte {
	dst = append(dst, `{"session_id":`...)
	dst = appendJSONString(dst, r.SessionID)
	dst = append(dst, `,"n":`...)
	dst = strconv.AppendUint(dst, r.N, 10)
	dst = append(dst, `,"status":`...)
	dst = appendJSONString(dst, r.Status)
	if r.CommandTag != "" {
		dst = append(dst, `,"command_tag":`...)
		dst = appendJSONString(dst, r.CommandTag)
	}
	dst = append(dst, `,"rows":`...)
	dst = strconv.AppendInt(dst, r.Rows, 10)
	if r.SQLState != "" {
		dst = append(dst, `,"sqlstate":`...)
		dst = appendJSONString(dst, r.SQLState)
	}
	if r.Error != "" {
		dst = append(dst, `,"error":`...)
		dst = appendJSONString(dst, r.Error)
	}
	dst = append(dst, `,"duration_us":`...)
	dst = strconv.AppendInt(dst, r.DurationUS, 10)
	return append(dst, '}')
}

// queryN reads "n" from a query event's data as appendQueryJSON wrote it.
func queryN(data []byte) (uint64, bool) {
	const key = `,"n":`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return 0, false
	}
	var n uint64
	j := i + len(key)
	for ; j < len(data) && data[j] >= '0' && data[j] <= '9'; j++ {
		n = n*10 + uint64(data[j]-'0')
	}
	return n, j > i+len(key)
}
