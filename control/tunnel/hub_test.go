package tunnel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIsCancelRequest: a connection's first 8 bytes are a CancelRequest
// when they hold its length (16; more in protocol 3.2, bounded) and code;
// an SSLRequest, a startup message or anything else is not. The hub's
// relaying, sharing and broadcast are tested end to end with the agent's
// side in agent/tunnel.
func TestIsCancelRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		head []byte
		want bool
	}{
		{"cancel", []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e}, true},
		{"cancel 3.2, longer key", []byte{0, 0, 0, 40, 0x04, 0xd2, 0x16, 0x2e}, true},
		{"ssl request", []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, false},
		{"startup 3.0", []byte{0, 0, 0, 80, 0, 3, 0, 0}, false},
		{"cancel code, too short", []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2e}, false},
		{"cancel code, absurd length", []byte{0, 1, 0, 0, 0x04, 0xd2, 0x16, 0x2e}, false},
	} {
		require.Equal(t, tc.want, isCancelRequest(tc.head), tc.name)
	}
}
