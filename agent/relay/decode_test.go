package relay

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// body returns m's encoding without its header.
func body(t testing.TB, m pgproto3.FrontendMessage) []byte {
	b, err := m.Encode(nil)
	require.NoError(t, err)
	return b[pgwire.HeaderLen:]
}

// TestDecoders: each decoder reads what the tracker needs of a well-formed
// body and refuses a malformed one with ErrMalformed, naming the message.
func TestDecoders(t *testing.T) {
	t.Parallel()
	bind := body(t, &pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s", Parameters: [][]byte{[]byte("1"), nil}})
	call := body(t, &pgproto3.FunctionCall{Function: 42, ArgFormatCodes: []uint16{1}, Arguments: [][]byte{{7}}})
	// id 42, 0 format codes, 2 arguments: [7] and NULL, text result.
	callNull := []byte{0, 0, 0, 42, 0, 0, 0, 2, 0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff, 0, 0}
	callLong := []byte{0, 0, 0, 42, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 7, 0, 0}
	callFormat2 := []byte{0, 0, 0, 42, 0, 1, 0, 2, 0, 0, 0, 0}
	tests := []struct {
		name   string
		decode func([]byte) (string, error) // what was read, in short
		body   []byte
		want   string // "" with msg: malformed
		msg    string
	}{
		{"Parse named", shortParse, []byte("s\x00select 1\x00\x00\x00"), "s|select 1", ""},
		{"Parse without parameter types", shortParse, []byte("\x00select 1\x00"), "|select 1", ""},
		{"Parse without name end", shortParse, []byte("s"), "", "Parse"},
		{"Parse without text end", shortParse, []byte("s\x00select 1"), "", "Parse"},
		{"Query", shortQuery, []byte("select 1\x00"), "select 1", ""},
		{"Query with NUL inside", shortQuery, []byte("select 1\x00;\x00"), "select 1\x00;|NUL", ""},
		{"Query empty", shortQuery, nil, "", "Query"},
		{"Query without end", shortQuery, []byte("select 1"), "", "Query"},
		{"Bind", shortBind, bind, "p|s|2", ""},
		{"Bind cut", shortBind, bind[:len(bind)-3], "", "Bind"},
		{"Execute", shortExecute, []byte("p\x00\x00\x00\x00\x00"), "p", ""},
		{"Execute without row count", shortExecute, []byte("p\x00"), "", "Execute"},
		{"Execute empty", shortExecute, nil, "", "Execute"},
		{"Close statement", shortClose, []byte("Ss\x00"), "stmt|s", ""},
		{"Close portal", shortClose, []byte("Pp\x00"), "portal|p", ""},
		{"Close of something else", shortClose, []byte("Xp\x00"), "", "Close"},
		{"Close cut", shortClose, []byte("S"), "", "Close"},
		{"FunctionCall", shortFunction, call, "42|1", ""},
		{"FunctionCall cut", shortFunction, call[:3], "", "FunctionCall"},
		{"FunctionCall with a NULL argument", shortFunction, callNull, "42|2|[7]|NULL", ""},
		{"FunctionCall argument longer than the message", shortFunction, callLong, "", "longer than the message"},
		{"FunctionCall format code 2", shortFunction, callFormat2, "", "neither text nor binary"},
		{"FunctionCall with trailing bytes", shortFunction, append(append([]byte{}, call...), 0), "", "after the result format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.decode(tc.body)
			if tc.msg != "" {
				require.ErrorIs(t, err, pgwire.ErrMalformed)
				require.Contains(t, err.Error(), tc.msg)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func shortParse(b []byte) (string, error) {
	m, err := decodeParse(b)
	return m.name + "|" + string(m.query), err
}

func shortQuery(b []byte) (string, error) {
	text, nul, err := decodeQuery(b)
	if nul {
		return string(text) + "|NUL", err
	}
	return string(text), err
}

func shortBind(b []byte) (string, error) {
	m, err := decodeBind(b)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%s|%d", m.DestinationPortal, m.PreparedStatement, len(m.Parameters)), nil
}

func shortExecute(b []byte) (string, error) { return decodeExecute(b) }

func shortClose(b []byte) (string, error) {
	n, name, err := decodeClose(b)
	kind := "stmt"
	if n == nsPortal {
		kind = "portal"
	}
	return kind + "|" + name, err
}

func shortFunction(b []byte) (string, error) {
	m, err := decodeFunctionCall(b)
	if err != nil {
		return "", err
	}
	if len(m.Arguments) == 2 { // the NULL case shows its values
		show := func(a []byte) string {
			if a == nil {
				return "NULL"
			}
			return fmt.Sprint(a)
		}
		return fmt.Sprintf("%d|%d|%s|%s", m.Function, len(m.Arguments), show(m.Arguments[0]), show(m.Arguments[1])), nil
	}
	return fmt.Sprintf("%d|%d", m.Function, len(m.Arguments)), nil
}

// FuzzDecodeFunctionCall: the hand decoder never panics and, wherever
// pgproto3's decodes a body without NULL arguments, reads the same
// message.
func FuzzDecodeFunctionCall(f *testing.F) {
	f.Add([]byte{0, 0, 0, 42, 0, 0, 0, 2, 0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 2, 'h', 'i', 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeFunctionCall(b)
		if err != nil {
			require.ErrorIs(t, err, pgwire.ErrMalformed)
			return
		}
		for _, a := range got.Arguments {
			if a == nil {
				return // pgproto3/v2 cannot read NULL arguments
			}
		}
		var want pgproto3.FunctionCall
		if pgwire.Decode(&want, b) != nil {
			return
		}
		require.Equal(t, want.Function, got.Function)
		require.Equal(t, want.ResultFormatCode, got.ResultFormatCode)
		require.Equal(t, len(want.Arguments), len(got.Arguments))
		for i := range want.Arguments {
			require.Equal(t, want.Arguments[i], got.Arguments[i])
		}
	})
}

// FuzzDecodeParse: the hand decoder never panics, agrees with pgproto3's
// wherever that one decodes the body, and its text is the body's own
// bytes, up to a NUL.
func FuzzDecodeParse(f *testing.F) {
	f.Add(body(f, &pgproto3.Parse{Name: "s", Query: "select $1", ParameterOIDs: []uint32{23}}))
	f.Add([]byte("\x00select 1\x00"))
	f.Add([]byte("s\x00select"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := decodeParse(in)
		var want pgproto3.Parse
		if pgwire.Decode(&want, in) == nil {
			if err != nil || m.name != want.Name || string(m.query) != want.Query {
				t.Fatalf("pgproto3 reads %q, %q; the hand decoder %q, %q (%v)", want.Name, want.Query, m.name, m.query, err)
			}
		}
		if err != nil {
			return
		}
		at := len(m.name) + 1
		if !bytes.HasPrefix(in, append([]byte(m.name), 0)) || len(in) <= at+len(m.query) || in[at+len(m.query)] != 0 ||
			!bytes.Equal(in[at:at+len(m.query)], m.query) || bytes.IndexByte(m.query, 0) >= 0 {
			t.Fatalf("name %q, text %q are not the body's NUL-ended strings", m.name, m.query)
		}
	})
}

// FuzzDecodeQuery: the hand decoder never panics and reads a well-formed
// body (no NUL inside the text) exactly where pgproto3's does.
func FuzzDecodeQuery(f *testing.F) {
	f.Add([]byte("select 1\x00"))
	f.Add([]byte("select 1\x00;\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		text, nul, err := decodeQuery(in)
		var want pgproto3.Query
		ok := pgwire.Decode(&want, in) == nil
		if ok != (err == nil && !nul) {
			t.Fatalf("pgproto3 decodes: %v; the hand decoder: %v, NUL inside %v", ok, err, nul)
		}
		if ok && string(text) != want.String {
			t.Fatalf("pgproto3 reads %q, the hand decoder %q", want.String, text)
		}
		if err == nil && !bytes.Equal(append(text[:len(text):len(text)], 0), in) {
			t.Fatalf("text %q is not the body without its NUL", text)
		}
	})
}
