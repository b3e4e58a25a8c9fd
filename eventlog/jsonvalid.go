package eventlog

// maxFastDepth bounds the nesting validValue follows; deeper values take
// the slow path (encoding/json has its own, larger, limit).
const maxFastDepth = 64

// validValue reads the JSON value at s[i] (after any whitespace) and
// returns the index after it. It is sound, not complete: whatever it
// accepts encoding/json's Valid accepts too, so a value it refuses (bad,
// or nested deeper than maxFastDepth) is left to the slow path, which
// gives the exact answer. s must be valid UTF-8 (checked by the caller).
func validValue(s string, i int) (int, bool) {
	// open holds, per nesting level, the closing bracket awaited.
	var open [maxFastDepth]byte
	depth := 0
	for {
		i = skipWS(s, i)
		if i >= len(s) {
			return 0, false
		}
		switch c := s[i]; {
		case c == '{' || c == '[':
			if depth == maxFastDepth {
				return 0, false
			}
			open[depth] = c + 2 // '}' or ']'
			depth++
			i = skipWS(s, i+1)
			if i < len(s) && s[i] == open[depth-1] {
				depth--
				i++
				break
			}
			if c == '{' {
				var ok bool
				if i, ok = validKey(s, i); !ok {
					return 0, false
				}
			}
			continue
		case c == '"':
			var ok bool
			if i, ok = validString(s, i); !ok {
				return 0, false
			}
		case c == '-' || c >= '0' && c <= '9':
			var ok bool
			if i, ok = validNumber(s, i); !ok {
				return 0, false
			}
		default:
			n := literalLen(s[i:])
			if n == 0 {
				return 0, false
			}
			i += n
		}
		// A value ended: close what it ends, or go to the next one.
		for {
			if depth == 0 {
				return i, true
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return 0, false
			}
			if s[i] == open[depth-1] {
				depth--
				i++
				continue
			}
			if s[i] != ',' {
				return 0, false
			}
			i++
			if open[depth-1] == '}' {
				var ok bool
				if i, ok = validKey(s, skipWS(s, i)); !ok {
					return 0, false
				}
			}
			break
		}
	}
}

// validKey reads `"key" :` at s[i] and returns the index after the colon.
func validKey(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '"' {
		return 0, false
	}
	i, ok := validString(s, i)
	if !ok {
		return 0, false
	}
	i = skipWS(s, i)
	if i >= len(s) || s[i] != ':' {
		return 0, false
	}
	return i + 1, true
}

// validString reads the string at s[i] (a '"') and returns the index
// after its closing quote.
func validString(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			j++
			if j >= len(s) {
				return 0, false
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !isHex(s[j+1]) || !isHex(s[j+2]) || !isHex(s[j+3]) || !isHex(s[j+4]) {
					return 0, false
				}
				j += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at s[i].
func validNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// literalLen is the length of the true, false or null s starts with (0:
// none).
func literalLen(s string) int {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s) >= len(lit) && s[:len(lit)] == lit {
			return len(lit)
		}
	}
	return 0
}
