package syslog

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

// TestConfigRejectsNonsense: a missing or malformed address, a facility
// out of 0..23 and half a client cert are errors naming the field, in the
// export section and when the sink is built directly.
func TestConfigRejectsNonsense(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg   Config
		field string
	}{
		{Config{}, "addr"},
		{Config{Addr: "nohost"}, "addr"},
		{Config{Addr: "h:514", Facility: -1}, "facility"},
		{Config{Addr: "h:514", Facility: 24}, "facility"},
		{Config{Addr: "h:514", CertFile: "c.pem"}, "cert_file"},
	}
	for _, c := range cases {
		cfg := c.cfg
		err := sinktest.Validate(export.SinkTypes{SinkType()}, export.SinkConfig{Type: Type, Settings: &cfg})
		sinktest.RequireInvalid(t, err, "export.sinks[0].syslog."+c.field)
		_, err = New(c.cfg)
		sinktest.RequireInvalid(t, err, "syslog."+c.field)
	}
}

// TestConfigDefaults: zero values take the defaults.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := Config{Addr: "h:514"}
	require.NoError(t, sinktest.Validate(export.SinkTypes{SinkType()}, export.SinkConfig{Type: Type, Settings: &cfg}))
	require.Equal(t, Config{Addr: "h:514", Facility: DefaultFacility, AppName: DefaultAppName}, cfg)
}
