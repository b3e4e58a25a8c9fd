package eventlog

import "unicode/utf8"

// CutUTF8 cuts s to at most max bytes without splitting a UTF-8 sequence
// (max <= 0: ""). It is the one text cutter: of the size bound
// (schemas.Fit), of kept values and of SQL identifiers (agent/relay).
func CutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	cut := max
	// Back up to the start of a character: at most utf8.UTFMax-1 bytes.
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut]
}
