package eventlog

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestTruncateText(t *testing.T) {
	t.Parallel()
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	tests := []struct {
		name, in string
		max      int
		want     string
		cut      bool
	}{
		{"fits", "select 1", 8, "select 1", false},
		{"empty", "", 0, "", false},
		{"ascii cut", "select 1", 6, "select", true},
		{"zero max", "abc", 0, "", true},
		{"two-byte boundary", "aé", 2, "a", true}, // é is 2 bytes
		{"two-byte fits", "aéb", 3, "aé", true},
		{"three-byte", "€€", 4, "€", true},
		{"four-byte", "x😀", 4, "x", true},
		{"four-byte exact", "x😀y", 5, "x😀", true},
		{"invalid utf8 kept bytes", "ab\xffcd", 3, "ab\xff", true},
	}
	for _, tt := range tests {
		out, cut, h := TruncateText(tt.in, tt.max)
		require.Equal(t, tt.want, out, tt.name)
		require.Equal(t, tt.cut, cut, tt.name)
		if tt.cut {
			require.Equal(t, sum(tt.in), h, tt.name)
			require.LessOrEqual(t, len(out), tt.max, tt.name)
		} else {
			require.Empty(t, h, tt.name)
		}
	}
	long := strings.Repeat("ü", 1000)
	for max := range 40 {
		out, _, _ := TruncateText(long, max)
		require.True(t, utf8.ValidString(out), "max %d", max)
		require.GreaterOrEqual(t, len(out), max-1)
	}
}
