package tunnel

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// clientHello is the ClientHello a TLS client sends for sni.
func clientHello(t testing.TB, sni string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: sni, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		_ = c.Handshake()
		a.Close()
	}()
	_, hello, err := readClientHello(bufio.NewReader(b))
	b.Close()
	require.NoError(t, err)
	return hello
}

// TestReadClientHelloKeepsTheBytesAndTheSNI: the SNI is read and the
// bytes kept are exactly what the client sent, so the agent gets the
// ClientHello as it came; a hello cut short or too long is an error.
func TestReadClientHelloKeepsTheBytesAndTheSNI(t *testing.T) {
	t.Parallel()
	hello := clientHello(t, "roach.control.example.com")
	sni, got, err := readClientHello(bufio.NewReader(bytes.NewReader(hello)))
	require.NoError(t, err)
	require.Equal(t, "roach.control.example.com", sni)
	require.Equal(t, hello, got)
	db, err := databaseOfSNI(sni)
	require.NoError(t, err)
	require.Equal(t, "roach", db)

	_, _, err = readClientHello(bufio.NewReader(bytes.NewReader(hello[:len(hello)/2])))
	require.Error(t, err)
	huge := append([]byte{0x16, 3, 1, 0xff, 0xff}, bytes.Repeat([]byte{1}, 2*MaxClientHello)...)
	_, _, err = readClientHello(bufio.NewReader(bytes.NewReader(huge)))
	require.Error(t, err)
	_, err = databaseOfSNI("")
	require.ErrorIs(t, err, ErrNoSNI)
}

// FuzzReadClientHello: any bytes give an SNI and the bytes read, or an
// error; never a panic, never more than MaxClientHello kept.
func FuzzReadClientHello(f *testing.F) {
	f.Add(clientHello(f, "pg.tollgate"))
	f.Add([]byte{0x16, 3, 1, 0, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, got, err := readClientHello(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && len(got) > MaxClientHello {
			t.Fatalf("kept %d bytes", len(got))
		}
	})
}
