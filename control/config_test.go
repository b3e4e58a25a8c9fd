package control

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/schemas"
)

func TestConfigValidated(t *testing.T) {
	t.Parallel()
	valid := func(t *testing.T) Config {
		return Config{Control: memlog.New(eventlog.ControlStream), Audit: memlog.New(eventlog.AuditStream), DataDir: t.TempDir()}
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // "" when New accepts it
	}{
		{"defaults", func(*Config) {}, ""},
		{"everything set", func(c *Config) {
			c.FailureDelay, c.CheckpointInterval, c.Hosts = time.Millisecond, time.Second, []string{"localhost", "127.0.0.1"}
			c.KeyAlg = func(t string) string {
				if t == schemas.CAHost {
					return schemas.KeyAlgRSA2048
				}
				return ""
			}
		}, ""},
		{"no control stream", func(c *Config) { c.Control = nil }, "Control and Audit streams are required"},
		{"no audit stream", func(c *Config) { c.Audit = nil }, "Control and Audit streams are required"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "DataDir is required"},
		{"negative failure delay", func(c *Config) { c.FailureDelay = -time.Second }, "FailureDelay -1s is negative"},
		{"negative checkpoint interval", func(c *Config) { c.CheckpointInterval = -time.Minute }, "CheckpointInterval -1m0s is negative"},
		{"unknown key algorithm", func(c *Config) { c.KeyAlg = func(string) string { return "DSA-1024" } }, `KeyAlg of the user CA: invalid certificate request: key algorithm "DSA-1024"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid(t)
			tc.change(&cfg)
			svc, err := New(cfg)
			if tc.want == "" {
				require.NoError(t, err)
				require.NotNil(t, svc)
				require.Positive(t, svc.cfg.FailureDelay)
				require.Positive(t, svc.cfg.CheckpointInterval)
				return
			}
			require.Error(t, err)
			require.Nil(t, svc)
			require.Contains(t, err.Error(), "control: "+tc.want)
		})
	}
}
