package httpsink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

// TestConfigRejectsNonsense: what each HTTP sink needs (a URL, a HEC
// token, a webhook secret, an Elasticsearch data stream and ecs) and a
// negative timeout are errors naming the field.
func TestConfigRejectsNonsense(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ, format string
		cfg         Config
		field       string
	}{
		{TypeWebhook, "", Config{Secret: "k"}, "http.url"},
		{TypeWebhook, "", Config{URL: "ftp://h", Secret: "k"}, "http.url"},
		{TypeWebhook, "", Config{URL: "http://h"}, "http.secret"},
		{TypeSplunkHEC, "", Config{URL: "http://h"}, "http.token"},
		{TypeElasticsearch, "", Config{URL: "http://h", DataStream: "audit"}, "http.data_stream"},
		{TypeElasticsearch, export.FormatOCSF, Config{URL: "http://h"}, "format"},
		{TypeSplunkHEC, "", Config{URL: "http://h", Token: "t", Timeout: -time.Second}, "http.timeout"},
		{TypeWebhook, "", Config{URL: "http://h", Secret: "k", Timeout: -time.Second}, "http.timeout"},
		{TypeSplunkHEC, export.FormatSlack, Config{URL: "http://h", Token: "t"}, "format"},
	}
	for _, c := range cases {
		cfg := c.cfg
		err := sinktest.Validate(SinkTypes(), export.SinkConfig{Type: c.typ, Format: c.format, Settings: &cfg})
		sinktest.RequireInvalid(t, err, "export.sinks[0]."+c.field)
	}
}

// TestSlackWebhookNeedsNoSecret: format slack posts to a URL that is its
// own secret (a Slack incoming webhook), so no HMAC secret is required.
func TestSlackWebhookNeedsNoSecret(t *testing.T) {
	t.Parallel()
	cfg := Config{URL: "https://hooks.example.com/services/T0/B0/x"}
	require.NoError(t, sinktest.Validate(SinkTypes(), export.SinkConfig{Type: TypeWebhook, Format: export.FormatSlack, Settings: &cfg}))
}

// TestNewRejectsNegativeTimeout: built directly, a sink refuses a
// negative timeout instead of taking the default.
func TestNewRejectsNegativeTimeout(t *testing.T) {
	t.Parallel()
	cfg := Config{URL: "http://h", Token: "t", Secret: "k", Timeout: -time.Second}
	_, err := NewHEC(cfg)
	sinktest.RequireInvalid(t, err, "http.timeout")
	_, err = NewBulk(cfg)
	sinktest.RequireInvalid(t, err, "http.timeout")
	_, err = NewWebhook(cfg)
	sinktest.RequireInvalid(t, err, "http.timeout")
	cfg.Timeout = 0
	h, err := NewHEC(cfg)
	require.NoError(t, err)
	require.Equal(t, DefaultTimeout, h.c.http.Timeout)
}

// TestConfigDefaults: zero values take the defaults, the sourcetype the
// format's, and elasticsearch's format is ecs.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := Config{URL: "http://h"}
	require.NoError(t, sinktest.Validate(SinkTypes(), export.SinkConfig{Type: TypeElasticsearch, Settings: &cfg}))
	require.Equal(t, Config{URL: "http://h", Timeout: DefaultTimeout, SignatureHeader: DefaultSignatureHeader,
		DataStream: DefaultDataStream, SourceType: "tollgate:ecs"}, cfg)
}
