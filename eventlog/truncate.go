package eventlog

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// TruncateText cuts s to at most max bytes at a UTF-8 character boundary
// (DESIGN §3: a huge query text is cut and flagged). When s fits it is
// returned unchanged with truncated false and fullSHA256 "". When it is cut,
// fullSHA256 is the lower-case hex SHA-256 of the whole of s. max <= 0 cuts
// everything.
func TruncateText(s string, max int) (out string, truncated bool, fullSHA256 string) {
	if len(s) <= max {
		return s, false, ""
	}
	sum := sha256.Sum256([]byte(s))
	return CutUTF8(s, max), true, hex.EncodeToString(sum[:])
}

// CutUTF8 cuts s to at most max bytes without splitting a UTF-8 sequence
// (max <= 0: ""). It is the one text cutter of the size bound.
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
