package gateway

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestClientCertsRetain: after a rotation event only the certs of the key
// that signs now stay cached.
func TestClientCertsRetain(t *testing.T) {
	t.Parallel()
	e := certEntry{cert: &tls.Certificate{}, notAfter: time.Now().Add(time.Hour)}
	c := &clientCerts{m: map[certKey]certEntry{
		{"alice", "roach", "db_client-old"}: e,
		{"bob", "roach", "db_client-old"}:   e,
		{"alice", "roach", "db_client-new"}: e,
	}}
	c.retain("db_client-new")
	require.Equal(t, map[certKey]certEntry{{"alice", "roach", "db_client-new"}: e}, c.m)
	c.retain("db_client-old") // a rollback
	require.Empty(t, c.m)
}
