package gateway_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
)

func TestSelectorMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s      gateway.Selector
		labels map[string]string
		want   bool
	}{
		{gateway.Selector{"env": {"dev"}}, map[string]string{"env": "dev"}, true},
		{gateway.Selector{"env": {"dev", "stg"}}, map[string]string{"env": "stg", "x": "y"}, true},
		{gateway.Selector{"env": {"dev"}}, map[string]string{"env": "prod"}, false},
		{gateway.Selector{"env": {"dev"}}, nil, false},
		{gateway.Selector{"env": {"*"}}, map[string]string{"env": "prod"}, true},
		{gateway.Selector{"*": {"*"}}, nil, true},
		{gateway.Selector{"*": {"dev"}}, map[string]string{"team": "dev"}, true},
		{gateway.Selector{"env": {"dev"}, "team": {"a"}}, map[string]string{"env": "dev"}, false},
		{nil, map[string]string{"env": "dev"}, false},
	}
	for i, c := range cases {
		require.Equal(t, c.want, c.s.Matches(c.labels), "case %d", i)
	}
}

func TestAdvertiseAddr(t *testing.T) {
	t.Parallel()
	bound := &net.TCPAddr{IP: net.IPv4zero, Port: 40001}
	tests := []struct {
		name string
		o    gateway.Options
		b    net.Addr
		want string
	}{
		{"public addr wins", gateway.Options{Reloadable: gateway.Reloadable{PublicAddr: "db.example.com:7432"}, ListenAddr: "0.0.0.0:7432"}, nil, "db.example.com:7432"},
		{"unspecified v4 becomes the hostname", gateway.Options{ListenAddr: "0.0.0.0:7432"}, nil, "agent-1:7432"},
		{"unspecified v6 becomes the hostname", gateway.Options{ListenAddr: "[::]:7432"}, nil, "agent-1:7432"},
		{"empty host becomes the hostname", gateway.Options{ListenAddr: ":7432"}, nil, "agent-1:7432"},
		{"the default listen address", gateway.Options{}, nil, "agent-1:7432"},
		{"bound port replaces port 0", gateway.Options{ListenAddr: "0.0.0.0:0"}, bound, "agent-1:40001"},
		{"a concrete host stays", gateway.Options{ListenAddr: "127.0.0.1:7432"}, nil, "127.0.0.1:7432"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Hostname = "agent-1"
			require.Equal(t, tc.want, tc.o.AdvertiseAddr(tc.b))
		})
	}
}

// TestJoinRequest: the join carries the hostname, the address clients dial
// and the resource selectors.
func TestJoinRequest(t *testing.T) {
	t.Parallel()
	o := gateway.Options{Hostname: "agent-1", ListenAddr: "0.0.0.0:7432"}
	o.Resources = []gateway.Selector{{"env": {"dev", "stg"}}, {"*": {"*"}}}
	req := o.JoinRequest("tok")
	require.Equal(t, "tok", req.Token)
	require.Equal(t, "agent-1", req.Hostname)
	require.Equal(t, "agent-1:7432", req.PublicAddr)
	require.Equal(t, []map[string][]string{{"env": {"dev", "stg"}}, {"*": {"*"}}}, req.Resources)
}
