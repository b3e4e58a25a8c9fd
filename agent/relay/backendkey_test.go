package relay

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// TestBackendKeyDataMapped32: protocol 3.2's longer keys. The server's
// NegotiateProtocolVersion and its BackendKeyData's pid reach the client
// unchanged, the secret (any length up to 256) is replaced by the agent's,
// and a BackendKeyData the relay cannot decode is forwarded as it came.
func TestBackendKeyDataMapped32(t *testing.T) {
	t.Parallel()
	negotiate := []byte{'v', 0, 0, 0, 12, 0, 3, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name      string
		key       []byte
		agent     []byte
		forwarded bool
	}{
		{"3.0", []byte{1, 2, 3, 4}, []byte{9, 9, 9, 9}, false},
		{"3.2 32 bytes", bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), false},
		{"3.2 256 bytes", bytes.Repeat([]byte{3}, pgwire.MaxCancelKey), bytes.Repeat([]byte{4}, pgwire.MaxCancelKey), false},
		{"257 bytes", bytes.Repeat([]byte{5}, pgwire.MaxCancelKey+1), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clientSide, agentClient := tcpPair(t)
			agentServer, serverSide := tcpPair(t)
			var mapped []byte
			var mappedPID uint32
			s := mustNew(Config{
				SessionID: "s1", Database: "db", User: "alice", Mode: Async,
				Builder: eventlog.NewBuilder("agent-1"), Publisher: &memPub{},
				MapBackendKey: func(pid uint32, secret []byte) []byte {
					mappedPID = pid
					mapped = append([]byte(nil), secret...)
					return tc.agent
				},
			}, agentClient, nil, agentServer)
			done := make(chan Stats, 1)
			go func() { done <- s.Run(context.Background()) }()

			keyMsg := pgwire.AppendBackendKeyData(nil, 4711, tc.key)
			var in []byte
			in = append(in, negotiate...)
			in = append(in, 'R', 0, 0, 0, 8, 0, 0, 0, 0)
			in = append(in, keyMsg...)
			in = pgwire.AppendReadyForQuery(in, pgwire.TxIdle)
			_, err := serverSide.Write(in)
			require.NoError(t, err)

			want := append([]byte(nil), negotiate...)
			want = append(want, 'R', 0, 0, 0, 8, 0, 0, 0, 0)
			if tc.forwarded {
				want = append(want, keyMsg...)
			} else {
				want = append(want, pgwire.AppendBackendKeyData(nil, 4711, tc.agent)...)
			}
			want = pgwire.AppendReadyForQuery(want, pgwire.TxIdle)
			got := make([]byte, len(want))
			_, err = io.ReadFull(bufio.NewReader(clientSide), got)
			require.NoError(t, err)
			require.Equal(t, want, got)
			serverSide.Close()
			<-done
			if !tc.forwarded {
				require.Equal(t, tc.key, mapped, "the server's whole key is registered")
				require.Equal(t, uint32(4711), mappedPID)
			}
		})
	}
}
