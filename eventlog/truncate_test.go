package eventlog

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestCutUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "select 1", 8, "select 1"},
		{"empty", "", 0, ""},
		{"ascii cut", "select 1", 6, "select"},
		{"zero max", "abc", 0, ""},
		{"two-byte boundary", "aé", 2, "a"}, // é is 2 bytes
		{"two-byte fits", "aéb", 3, "aé"},
		{"three-byte", "€€", 4, "€"},
		{"four-byte", "x😀", 4, "x"},
		{"four-byte exact", "x😀y", 5, "x😀"},
		{"invalid utf8 kept bytes", "ab\xffcd", 3, "ab\xff"},
	}
	for _, tt := range tests {
		out := CutUTF8(tt.in, tt.max)
		require.Equal(t, tt.want, out, tt.name)
		require.LessOrEqual(t, len(out), max(tt.max, 0), tt.name)
	}
	long := strings.Repeat("ü", 1000)
	for max := range 40 {
		out := CutUTF8(long, max)
		require.True(t, utf8.ValidString(out), "max %d", max)
		require.GreaterOrEqual(t, len(out), max-1)
	}
}
