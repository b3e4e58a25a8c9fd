package client

import (
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReachedAfterARetriedDial: a request that had a connection (a pooled
// one the control closed as it stopped) and then failed to dial a new one
// reached no control and may go to the next; any other failure after a
// connection may have reached it.
func TestReachedAfterARetriedDial(t *testing.T) {
	t.Parallel()
	refused := &url.Error{Op: "Post", URL: "https://127.0.0.1:1/v1/tokens",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	reset := &url.Error{Op: "Post", URL: "https://127.0.0.1:1/v1/tokens",
		Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	for _, tc := range []struct {
		name string
		sent bool
		err  error
		want bool
	}{
		{"no connection, refused", false, refused, false},
		{"a connection, then a refused dial", true, refused, false},
		{"a connection, then reset", true, reset, true},
		{"a connection, then EOF", true, &url.Error{Op: "Post", Err: io.EOF}, true},
		{"no connection, other error", false, errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, reached(tc.sent, tc.err))
		})
	}
}
