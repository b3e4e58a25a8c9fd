package node_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestControlPortTellsEachKindOfClientApart: control's one public port
// answers plain HTTP with the HTTPS server's 400, a plaintext PostgreSQL
// startup with FATAL 28000, and a PostgreSQL client over TLS whose SNI
// names a database no tunnel serves with FATAL 08006 inside a TLS session
// with control's host cert; the API still answers over TLS.
func TestControlPortTellsEachKindOfClientApart(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nil)
	cas, err := n.Env.Control.CAs().Trusted(schemas.CAHost)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(strings.Join(cas, ""))))
	dial := func() net.Conn {
		c, err := net.Dial("tcp", n.Addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		return c
	}

	t.Run("plain HTTP", func(t *testing.T) {
		c := dial()
		_, err := io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		require.Contains(t, line, "400")
	})

	t.Run("plaintext PostgreSQL", func(t *testing.T) {
		c := dial()
		fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(c), c)
		require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
			Parameters: map[string]string{"user": "alice"}}))
		m, err := fe.Receive()
		require.NoError(t, err)
		require.Equal(t, pgwire.CodeInvalidAuthorization, m.(*pgproto3.ErrorResponse).Code)
	})

	t.Run("PostgreSQL over TLS for a database no tunnel serves", func(t *testing.T) {
		c := dial()
		_, err := c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
		require.NoError(t, err)
		b := make([]byte, 1)
		_, err = io.ReadFull(c, b)
		require.NoError(t, err)
		require.Equal(t, byte('S'), b[0])
		tc := tls.Client(c, &tls.Config{ServerName: "nowhere.tollgate", MinVersion: tls.VersionTLS13, InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool})
				return err
			}})
		fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(tc), tc)
		require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
			Parameters: map[string]string{"user": "alice"}}))
		m, err := fe.Receive()
		require.NoError(t, err)
		e := m.(*pgproto3.ErrorResponse)
		require.Equal(t, pgwire.CodeConnectionFailure, e.Code)
		require.Contains(t, e.Message, "database nowhere")
	})

	t.Run("the API", func(t *testing.T) {
		p, err := profile.Load(control.AdminDir(n.DataDir))
		require.NoError(t, err)
		adm, err := client.FromProfile(p, n.Addr)
		require.NoError(t, err)
		defer adm.Close()
		_, err = adm.Ping(t.Context())
		require.NoError(t, err)
	})
}
