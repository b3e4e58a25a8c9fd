package eventlog

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func validCases() []string {
	return []string{
		`{}`, `[]`, `{"a":1}`, ` { "a" : [ 1 , -2.5e+3 , true , false , null , "x" ] } `,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"`, `0`, `-0`, `1.0`, `1e5`, `1E-5`,
		`{"a":{"b":{"c":[[],[{}]]}}}`, `"é"`, strings.Repeat("[", 64) + strings.Repeat("]", 64),
		// invalid
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `[1 2]`,
		`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `tru`, `nul`, `True`, `"\x"`, `"\u12"`, `"\u12G4"`,
		"\"a\tb\"", `"open`, `[1]]`, `{"a":1}}`, `[}`, `{]`, strings.Repeat("[", 65) + strings.Repeat("]", 65),
	}
}

// checkValidValue: whatever validValue accepts json.Valid accepts (it
// must be sound), and it accepts every valid value not nested too deep (so
// that valid data stays on the fast path).
func checkValidValue(t *testing.T, in string) {
	if !utf8.ValidString(in) {
		return
	}
	end, ok := validValue(in, 0)
	whole := ok && skipWS(in, end) == len(in)
	want := json.Valid([]byte(in))
	if whole {
		require.True(t, want, "validValue accepted %q", in)
		return
	}
	if want && strings.Count(in, "[")+strings.Count(in, "{") <= maxFastDepth {
		t.Fatalf("validValue refused valid %q", in)
	}
}

func TestValidValue(t *testing.T) {
	t.Parallel()
	for _, in := range validCases() {
		checkValidValue(t, in)
	}
	deep := strings.Repeat("[", maxFastDepth+1) + strings.Repeat("]", maxFastDepth+1)
	_, ok := validValue(deep, 0)
	require.False(t, ok, "nested deeper than maxFastDepth: left to the slow path")
}

func FuzzValidValue(f *testing.F) {
	for _, in := range validCases() {
		f.Add(in)
	}
	f.Fuzz(checkValidValue)
}
