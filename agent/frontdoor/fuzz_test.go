package frontdoor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// byteConn is a net.Conn reading a fixed input; writes are kept.
type byteConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (c *byteConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *byteConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *byteConn) Close() error                { return nil }
func (c *byteConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7432} }
func (c *byteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *byteConn) SetDeadline(time.Time) error      { return nil }
func (c *byteConn) SetReadDeadline(time.Time) error  { return nil }
func (c *byteConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzHandle feeds arbitrary client bytes to the startup handling: it must
// end with a Session, a Rejection, ErrCancelRequest or an EOF error — never
// panic or hang — and free its connection slot.
func FuzzHandle(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})                                           // SSLRequest
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 48, 0, 0, 0, 8, 4, 210, 22, 47})               // GSSENC then SSL
	f.Add([]byte{0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 7, 0, 0, 0, 99})                 // CancelRequest
	f.Add(append([]byte{0, 0, 0, 44, 4, 210, 22, 46, 0, 0, 0, 7}, make([]byte, 32)...)) // 3.2 CancelRequest
	f.Add([]byte("\x00\x00\x00\x17\x00\x03\x00\x00user\x00app\x00\x00"))                // plaintext StartupMessage
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	fd, err := New(Config{
		Credentials: StaticCredentials{},
		Identify:    testIdentify,
		Catalog:     catalog{},
		Authorizer:  AuthorizerFunc(func(context.Context, Request) (Decision, error) { return Decision{}, nil }),
		Cancel:      &cancelRec{},
	})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &byteConn{r: bytes.NewReader(in)}
		s, err := fd.Handle(context.Background(), c)
		if s != nil {
			t.Fatalf("a session without a TLS client cert: %+v", s)
		}
		var r *Rejection
		if !errors.As(err, &r) && !errors.Is(err, ErrCancelRequest) && !errors.Is(err, io.EOF) {
			t.Fatalf("unexpected outcome: %v", err)
		}
		if fd.Active() != 0 {
			t.Fatalf("slot leaked: %d active", fd.Active())
		}
	})
}
