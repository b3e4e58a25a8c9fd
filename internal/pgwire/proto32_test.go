package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// startupPacket builds a StartupMessage of version with params in order.
func startupPacket(version uint32, kv ...string) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, version)
	for _, s := range kv {
		b = append(append(b, s...), 0)
	}
	b = append(b, 0)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// TestStartup3x: any 3.x startup is accepted and its version kept (the
// server negotiates), with `_pq_.` options as parameters; 2.0 and 4.0 are
// not PostgreSQL 3 and are refused.
func TestStartup3x(t *testing.T) {
	t.Parallel()
	for _, v := range []uint32{ProtocolVersion3, ProtocolVersion32, 3<<16 | 9999} {
		raw := startupPacket(v, "user", "alice", "_pq_.test_option", "on", "database", "app")
		s, err := ReadStartup(bufio.NewReader(bytes.NewReader(raw)))
		require.NoError(t, err, VersionString(v))
		require.Equal(t, KindStartupMessage, s.Kind)
		require.Equal(t, v, s.Version)
		require.Equal(t, map[string]string{"user": "alice", "_pq_.test_option": "on", "database": "app"}, s.Params)
		require.Equal(t, raw, s.Raw, "forwarded unchanged")
	}
	require.Equal(t, "3.2", VersionString(ProtocolVersion32))
	for _, v := range []uint32{2 << 16, 4 << 16, 0} {
		_, err := ParseStartup(startupPacket(v, "user", "alice"))
		require.ErrorIs(t, err, ErrUnsupportedProtocol, VersionString(v))
	}
	for name, raw := range map[string][]byte{
		"no value":         startupPacket(ProtocolVersion32, "user"),
		"after terminator": append(startupPacket(ProtocolVersion32, "user", "a"), 'x'),
	} {
		raw := raw
		binary.BigEndian.PutUint32(raw, uint32(len(raw)))
		_, err := ParseStartup(raw)
		require.ErrorIs(t, err, ErrMalformed, name)
	}
}

// TestCancelRequestKeys: a CancelRequest's key runs to the end of the
// packet, 4 bytes (3.0) up to 256 (3.2); empty and longer keys are
// malformed, as PostgreSQL 18 has it.
func TestCancelRequestKeys(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 4, 32, MaxCancelKey} {
		key := bytes.Repeat([]byte{0xab}, n)
		key[0] = byte(n)
		raw := AppendCancelRequest(nil, 4242, key)
		require.Len(t, raw, 12+n)
		s, err := ReadStartup(bufio.NewReader(bytes.NewReader(raw)))
		require.NoError(t, err, n)
		require.Equal(t, KindCancelRequest, s.Kind)
		require.Equal(t, uint32(4242), s.ProcessID)
		require.Equal(t, key, s.SecretKey)
		require.Equal(t, raw, s.Raw)
	}
	for _, n := range []int{0, MaxCancelKey + 1} {
		_, err := ParseStartup(AppendCancelRequest(nil, 1, make([]byte, n)))
		require.ErrorIs(t, err, ErrMalformed, n)
	}
}

// TestBackendKeyData: 3.0's 4-byte and 3.2's longer keys decode and
// encode back to the same bytes; empty and over-long keys are refused.
func TestBackendKeyData(t *testing.T) {
	t.Parallel()
	for _, n := range []int{4, 32, MaxCancelKey} {
		key := bytes.Repeat([]byte{7}, n)
		msg := AppendBackendKeyData(nil, 99, key)
		require.Equal(t, ServerBackendKeyData, ServerMsg(msg[0]))
		require.Equal(t, uint32(len(msg)-1), binary.BigEndian.Uint32(msg[1:5]))
		pid, secret, err := ParseBackendKeyData(msg[HeaderLen:])
		require.NoError(t, err)
		require.Equal(t, uint32(99), pid)
		require.Equal(t, key, secret)
	}
	for _, n := range []int{0, MaxCancelKey + 1} {
		_, _, err := ParseBackendKeyData(AppendBackendKeyData(nil, 1, make([]byte, n))[HeaderLen:])
		require.ErrorIs(t, err, ErrMalformed, n)
	}
	_, _, err := ParseBackendKeyData([]byte{0, 0, 1})
	require.ErrorIs(t, err, ErrMalformed)
}
