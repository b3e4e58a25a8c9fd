package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"
)

func msg(typ byte, body string) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(body)+4))
	return append(b, body...)
}

func TestReaderFrames(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 10000) // larger than the bufio buffer
	var in []byte
	in = append(in, msg('Q', "select 1\x00")...)
	in = append(in, msg('S', "")...)
	in = append(in, msg('d', big)...)
	in = append(in, msg('X', "")...)
	r := NewClientReader(bufio.NewReaderSize(bytes.NewReader(in), 4096), 0)
	want := []struct {
		typ  ClientMsg
		body string
	}{{ClientQuery, "select 1\x00"}, {ClientSync, ""}, {ClientCopyData, big}, {ClientTerminate, ""}}
	var raws []byte
	for _, w := range want {
		typ, body, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, w.typ, typ)
		require.Equal(t, w.body, string(body))
		raws = append(raws, r.Raw()...)
	}
	require.Equal(t, in, raws, "raw frames reproduce the input")
	_, _, err := r.Next()
	require.ErrorIs(t, err, io.EOF)
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"2GiB frame", []byte{'d', 0x7f, 0xff, 0xff, 0xff}, 0, ErrFrameTooLarge},
		{"4GiB length", []byte{'d', 0xff, 0xff, 0xff, 0xff}, 0, ErrMalformed},
		{"over limit", msg('Q', strings.Repeat("a", 101)), 100, ErrFrameTooLarge},
		{"length below 4", []byte{'Q', 0, 0, 0, 3}, 0, ErrMalformed},
		{"cut header", []byte{'Q', 0, 0}, 0, io.ErrUnexpectedEOF},
		{"cut body", msg('Q', "select 1")[:8], 0, io.ErrUnexpectedEOF},
		{"cut big body", msg('d', strings.Repeat("a", 9000))[:5000], 0, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewClientReader(bufio.NewReaderSize(bytes.NewReader(tc.in), 4096), tc.max)
			_, _, err := r.Next()
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestHugeFrameDoesNotAllocate(t *testing.T) {
	in := []byte{'d', 0x7f, 0xff, 0xff, 0xff, 1, 2, 3}
	allocs := testing.AllocsPerRun(100, func() {
		r := Reader[ClientMsg]{br: bufio.NewReaderSize(bytes.NewReader(in), 16), max: DefaultMaxMessage}
		_, _, err := r.Next()
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Fatal(err)
		}
	})
	// bufio reader, bytes reader and the error value; never the 2 GiB.
	require.LessOrEqual(t, allocs, 5.0)
	var fe *FrameError
	r := NewClientReader(bufio.NewReader(bytes.NewReader(in)), 0)
	_, _, err := r.Next()
	require.ErrorAs(t, err, &fe)
	require.Equal(t, int64(0x7fffffff), fe.Length)
	require.Contains(t, err.Error(), "limit")
}

func TestFrameBuffered(t *testing.T) {
	t.Parallel()
	in := append(msg('Q', "select 1\x00"), msg('S', "")[:3]...)
	br := bufio.NewReader(bytes.NewReader(in))
	r := NewClientReader(br, 0)
	_, err := br.Peek(len(in))
	require.NoError(t, err)
	require.True(t, r.FrameBuffered())
	_, _, err = r.Next()
	require.NoError(t, err)
	require.False(t, r.FrameBuffered())
}

func TestStartup(t *testing.T) {
	t.Parallel()
	sm := &pgproto3.StartupMessage{ProtocolVersion: ProtocolVersion3, Parameters: map[string]string{"user": "alice", "database": "app"}}
	smRaw, err := sm.Encode(nil)
	require.NoError(t, err)
	cr := &pgproto3.CancelRequest{ProcessID: 7, SecretKey: 9}
	crRaw, err := cr.Encode(nil)
	require.NoError(t, err)
	ssl, err := (&pgproto3.SSLRequest{}).Encode(nil)
	require.NoError(t, err)
	gss, err := (&pgproto3.GSSEncRequest{}).Encode(nil)
	require.NoError(t, err)

	in := bytes.Join([][]byte{ssl, gss, crRaw, smRaw}, nil)
	br := bufio.NewReader(bytes.NewReader(in))
	s, err := ReadStartup(br)
	require.NoError(t, err)
	require.Equal(t, KindSSLRequest, s.Kind)
	s, err = ReadStartup(br)
	require.NoError(t, err)
	require.Equal(t, KindGSSENCRequest, s.Kind)
	s, err = ReadStartup(br)
	require.NoError(t, err)
	require.Equal(t, KindCancelRequest, s.Kind)
	require.Equal(t, uint32(7), s.ProcessID)
	require.Equal(t, []byte{0, 0, 0, 9}, s.SecretKey)
	s, err = ReadStartup(br)
	require.NoError(t, err)
	require.Equal(t, KindStartupMessage, s.Kind)
	require.Equal(t, "alice", s.Params["user"])
	require.Equal(t, uint32(ProtocolVersion3), s.Version)
	require.Equal(t, smRaw, s.Raw)
	_, err = ReadStartup(br)
	require.ErrorIs(t, err, io.EOF)
}

func TestStartupErrors(t *testing.T) {
	t.Parallel()
	be := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"2GiB", be(0x7fffffff, ProtocolVersion3), ErrFrameTooLarge},
		{"over 10KiB", be(MaxStartup+1, ProtocolVersion3), ErrFrameTooLarge},
		{"short", be(4, 0), ErrMalformed},
		{"protocol 2", be(8, 0x20000), ErrUnsupportedProtocol},
		{"cancel short", be(12, CodeCancelRequest, 1), ErrMalformed},
		{"ssl with payload", be(12, CodeSSLRequest, 1), ErrMalformed},
		{"startup no terminator", append(be(13, ProtocolVersion3), 'u', 0, 'x', 0, 'y'), ErrMalformed},
		{"cut", be(16, ProtocolVersion3), io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadStartup(bufio.NewReader(bytes.NewReader(tc.in)))
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestAppendError(t *testing.T) {
	t.Parallel()
	b := AppendError(nil, Error{Code: CodeAuditUnavailable, Message: "audit log unavailable", Hint: "retry"})
	r := NewServerReader(bufio.NewReader(bytes.NewReader(AppendReadyForQuery(b, TxIdle))), 0)
	typ, body, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, ServerErrorResponse, typ)
	var er pgproto3.ErrorResponse
	require.NoError(t, er.Decode(body))
	require.Equal(t, "ERROR", er.Severity)
	require.Equal(t, "58000", er.Code)
	require.Equal(t, "retry", er.Hint)
	typ, body, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, ServerReadyForQuery, typ)
	require.Equal(t, []byte{'I'}, body)

	var buf bytes.Buffer
	require.NoError(t, WriteFatal(&buf, CodeAdminShutdown, "bye"))
	require.Contains(t, buf.String(), "FATAL")
}

// TestFrameErrorTexts: an error in a startup packet says so; an error in a
// message after the startup names the message and never says "startup
// packet" (clients see this text in the FATAL ErrorResponse).
func TestFrameErrorTexts(t *testing.T) {
	t.Parallel()
	_, err := ReadStartup(bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 4, 0, 0, 0, 0})))
	require.ErrorIs(t, err, ErrMalformed)
	require.Contains(t, err.Error(), "startup packet")
	_, err = ReadStartup(bufio.NewReader(bytes.NewReader([]byte{0x7f, 0, 0, 0, 0, 3, 0, 0})))
	require.ErrorIs(t, err, ErrFrameTooLarge)
	require.Contains(t, err.Error(), "startup packet declares")

	after := map[string]error{}
	_, _, after["bad length"] = NewClientReader(bufio.NewReader(bytes.NewReader([]byte{'B', 0, 0, 0, 1})), 0).Next()
	_, _, after["too large"] = NewClientReader(bufio.NewReader(bytes.NewReader([]byte{'P', 0, 1, 0, 0})), 16).Next()
	_, _, after["type byte 0"] = NewClientReader(bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 0, 2})), 0).Next()
	after["undecodable body"] = Decode(&pgproto3.Query{}, nil)
	// As the relay builds it for a message its tracker cannot read.
	after["relay"] = &FrameError{Reason: "Bind: insufficient data", Err: ErrMalformed}
	want := map[string]string{
		"bad length":       `pgwire: malformed message: message 'B': invalid length`,
		"too large":        `pgwire: frame exceeds the maximum message size: message 'P' declares 65536 bytes, limit 16`,
		"type byte 0":      `pgwire: malformed message: message '\x00': invalid length`,
		"undecodable body": `pgwire: malformed message: Query: the body cannot be decoded`,
		"relay":            `pgwire: malformed message: Bind: insufficient data`,
	}
	for name, err := range after {
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), "startup", name)
		require.Equal(t, want[name], err.Error(), name)
	}
}
