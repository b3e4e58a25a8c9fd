package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

// TestOptionsValidate: zero values are defaults; a negative or unknown
// value is an error naming its field.
func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	roach := gateway.Database{Name: "roach", Protocol: "postgres", URI: "db.example.com:5432"}
	tests := []struct {
		name  string
		mod   func(o *gateway.Options)
		field string // "" : valid
	}{
		{"zero options are the defaults", func(*gateway.Options) {}, ""},
		{"every field set", func(o *gateway.Options) {
			o.ListenAddr, o.MetricsAddr, o.HandshakeTimeout, o.CheckpointInterval = "0.0.0.0:7432", "127.0.0.1:7090", time.Second, time.Second
			o.Grace, o.IdentityCheck, o.MaxConnections, o.SpoolMaxBytes, o.MessageBudget = time.Second, time.Second, 10, 1<<20, 1<<20
			o.AuditMode, o.MaxMessageSize, o.IdleTimeout, o.PublicAddr = relay.Async, 1<<20, time.Minute, "agent.example.com:7432"
			o.Floods.Window, o.Floods.Burst, o.Floods.MaxSources = time.Second, 1, 1
			o.Databases = []gateway.Database{roach, {Name: "crdb", Protocol: "cockroachdb", URI: "crdb:26257", TLSMode: "verify-ca"}}
			o.Resources = []gateway.Selector{{"env": {"dev"}}, {"*": {"*"}}}
		}, ""},
		{"no metrics listener", func(o *gateway.Options) { o.MetricsAddr = gateway.NoListener }, ""},
		{"listen address", func(o *gateway.Options) { o.ListenAddr = "7432" }, "ListenAddr"},
		{"metrics address", func(o *gateway.Options) { o.MetricsAddr = "none" }, "MetricsAddr"},
		{"handshake timeout", func(o *gateway.Options) { o.HandshakeTimeout = -time.Second }, "HandshakeTimeout"},
		{"checkpoint interval", func(o *gateway.Options) { o.CheckpointInterval = -time.Second }, "CheckpointInterval"},
		{"grace", func(o *gateway.Options) { o.Grace = -time.Second }, "Grace"},
		{"identity check", func(o *gateway.Options) { o.IdentityCheck = -time.Second }, "IdentityCheck"},
		{"max connections", func(o *gateway.Options) { o.MaxConnections = -1 }, "MaxConnections"},
		{"spool bound", func(o *gateway.Options) { o.SpoolMaxBytes = -1 }, "SpoolMaxBytes"},
		{"message budget", func(o *gateway.Options) { o.MessageBudget = -1 }, "MessageBudget"},
		{"flood window", func(o *gateway.Options) { o.Floods.Window = -time.Second }, "Floods.Window"},
		{"flood burst", func(o *gateway.Options) { o.Floods.Burst = -1 }, "Floods.Burst"},
		{"flood sources", func(o *gateway.Options) { o.Floods.MaxSources = -1 }, "Floods.MaxSources"},
		{"audit mode", func(o *gateway.Options) { o.AuditMode = 7 }, "AuditMode"},
		{"message size", func(o *gateway.Options) { o.MaxMessageSize = -1 }, "MaxMessageSize"},
		{"idle timeout", func(o *gateway.Options) { o.IdleTimeout = -time.Second }, "IdleTimeout"},
		{"public address without host", func(o *gateway.Options) { o.PublicAddr = ":7432" }, "PublicAddr"},
		{"database without name", func(o *gateway.Options) { o.Databases = []gateway.Database{{Protocol: "postgres", URI: "db:5432"}} }, "Databases[0].Name"},
		{"database named twice", func(o *gateway.Options) { o.Databases = []gateway.Database{roach, roach} }, "Databases[1].Name"},
		{"database protocol", func(o *gateway.Options) {
			o.Databases = []gateway.Database{{Name: "my", Protocol: "mysql", URI: "db:3306"}}
		}, "Databases[0].Protocol"},
		{"database without URI", func(o *gateway.Options) { o.Databases = []gateway.Database{{Name: "pg", Protocol: "postgres"}} }, "Databases[0].URI"},
		{"database URI without port", func(o *gateway.Options) {
			o.Databases = []gateway.Database{{Name: "pg", Protocol: "postgres", URI: "db.example.com"}}
		}, "Databases[0].URI"},
		{"database TLS mode", func(o *gateway.Options) {
			o.Databases = []gateway.Database{{Name: "pg", Protocol: "postgres", URI: "db:5432", TLSMode: "prefer"}}
		}, "Databases[0].TLSMode"},
		{"empty selector", func(o *gateway.Options) { o.Resources = []gateway.Selector{{}} }, "Resources[0]"},
		{"selector key without values", func(o *gateway.Options) { o.Resources = []gateway.Selector{{"env": nil}} }, "Resources[0][env]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o gateway.Options
			tc.mod(&o)
			err := o.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, gateway.ErrInvalidOptions)
			require.ErrorContains(t, err, tc.field+": ")
		})
	}
}

// TestNewRefusesInvalidOptions: a nonsense value is an error at
// construction, before anything is joined or bound.
func TestNewRefusesInvalidOptions(t *testing.T) {
	t.Parallel()
	deps := gateway.Deps{Control: struct{ join.ControlPlane }{}, ControlStream: memlog.New("control"), AuditStream: memlog.New("audit")}
	_, err := gateway.New(context.Background(), deps, gateway.Options{Grace: -time.Second})
	require.ErrorIs(t, err, gateway.ErrInvalidOptions)
	require.ErrorContains(t, err, "Grace: -1s is negative")
}
