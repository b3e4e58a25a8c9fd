package frontdoor

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// TestProtocol32Startup: a client asking for protocol 3.2 (PostgreSQL 18;
// pgx's and libpq 18's max_protocol_version) reaches the authorizer, with
// `_pq_.` options as parameters, and the session keeps its startup as
// sent, so the server negotiates.
func TestProtocol32Startup(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	c := dial(t, fx)
	c.startTLS(fx, fx.userCA.issue(t, false, "bob", "roach", time.Now().Add(time.Hour)))
	raw := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, pgwire.ProtocolVersion32)
	for _, s := range []string{"user", "app", "_pq_.test", "on"} {
		raw = append(append(raw, s...), 0)
	}
	raw = append(raw, 0)
	binary.BigEndian.PutUint32(raw, uint32(len(raw)))
	c.write(raw)
	require.Contains(t, c.readError().Message, "stub relay: user=bob db=roach dbuser=app")
	r := fx.next(t)
	require.NoError(t, r.err)
	require.Equal(t, uint32(pgwire.ProtocolVersion32), r.s.Startup.Version)
	require.Equal(t, raw, r.s.Startup.Raw)
	require.Equal(t, "on", r.s.Params["_pq_.test"])
}

// TestCancelRequest32: 3.2's longer cancel keys reach the handler whole,
// in plaintext and inside TLS.
func TestCancelRequest32(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	key := bytes.Repeat([]byte{0xcd}, 32)
	long := bytes.Repeat([]byte{0xef}, pgwire.MaxCancelKey)
	c := dial(t, fx)
	c.write(pgwire.AppendCancelRequest(nil, 5, key))
	require.ErrorIs(t, fx.next(t).err, ErrCancelRequest)
	c = dial(t, fx)
	c.startTLS(fx, fx.userCA.issue(t, false, "bob", "roach", time.Now().Add(time.Hour)))
	c.write(pgwire.AppendCancelRequest(nil, 6, long))
	require.ErrorIs(t, fx.next(t).err, ErrCancelRequest)
	// Over 256 bytes of key is a protocol violation.
	c = dial(t, fx)
	c.write(pgwire.AppendCancelRequest(nil, 7, append(long, 1)))
	e := c.readError()
	require.Equal(t, pgwire.CodeProtocolViolation, e.Code)
	requireRejection(t, fx.next(t).err, "protocol")
	fx.cancels.mu.Lock()
	defer fx.cancels.mu.Unlock()
	require.Equal(t, []gotCancel{{5, string(key)}, {6, string(long)}}, fx.cancels.got)
}
