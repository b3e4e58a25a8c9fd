package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func marshal(t testing.TB, s string, escapeHTML bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	require.NoError(t, enc.Encode(s))
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "ctl \b\f\n\r\t \x00 \x1f", "html <a href='x'>&</a>",
		"utf-8 é ß 日本 🙂", "bad \xff\xfe utf-8", "line \u2028 and \u2029 sep", "select * from t where a > $1",
	} {
		for _, html := range []bool{true, false} {
			require.Equal(t, string(marshal(t, s, html)), string(AppendString(nil, s, html)), "%q html=%v", s, html)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "<>&", "\xff", "\u2028", "\b\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			if got, want := AppendString(nil, s, html), marshal(t, s, html); !bytes.Equal(got, want) {
				t.Fatalf("%q html=%v: got %s want %s", s, html, got, want)
			}
		}
	})
}
