package export

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(`
sinks:
  - name: es
    type: elasticsearch
    http: {url: "http://es:9200"}
  - name: f
    type: file
    batch: {max_events: 100, max_wait: 250ms}
    file: {path: /tmp/x.jsonl}
`), &c))
	require.NoError(t, c.Validate())
	require.Equal(t, FormatECS, c.Sinks[0].Format)
	require.Equal(t, []string{StreamAudit}, c.Sinks[0].Streams)
	require.Equal(t, "logs-tollgate.audit-default", c.Sinks[0].HTTP.DataStream)
	require.Equal(t, 250*time.Millisecond, c.Sinks[1].Batch.MaxWait)
	require.Equal(t, FsyncBatch, c.Sinks[1].File.Fsync)
	require.Equal(t, DefaultRetryMax, c.Sinks[1].Retry.Max)
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	cases := []struct{ yaml, field string }{
		{`sinks: [{name: a, type: ftp}]`, "export.sinks[0].type"},
		{`sinks: [{name: "a b", type: file, file: {path: x}}]`, "export.sinks[0].name"},
		{`sinks: [{name: a, type: file}]`, "export.sinks[0].file.path"},
		{`sinks: [{name: a, type: file, file: {path: x, fsync: sometimes}}]`, "export.sinks[0].file.fsync"},
		{`sinks: [{name: a, type: file, format: xml, file: {path: x}}]`, "export.sinks[0].format"},
		{`sinks: [{name: a, type: file, streams: [both], file: {path: x}}]`, "export.sinks[0].streams[0]"},
		{`sinks: [{name: a, type: syslog, syslog: {addr: nohost}}]`, "export.sinks[0].syslog.addr"},
		{`sinks: [{name: a, type: splunk_hec, http: {url: "http://h"}}]`, "export.sinks[0].http.token"},
		{`sinks: [{name: a, type: webhook, http: {url: "ftp://h"}}]`, "export.sinks[0].http.url"},
		{`sinks: [{name: a, type: elasticsearch, format: native, http: {url: "http://h"}}]`, "export.sinks[0].format"},
		{`sinks: [{name: a, type: sql}]`, "export.sinks[0].sql.dsn"},
		{`sinks: [{name: a, type: file, file: {path: x}}, {name: a, type: file, file: {path: y}}]`, "export.sinks[1].name"},
		{`sinks: [{name: a, type: file, batch: {max_events: -1}, file: {path: x}}]`, "export.sinks[0].batch.max_events"},
	}
	for _, c := range cases {
		var cfg Config
		require.NoError(t, yaml.Unmarshal([]byte(c.yaml), &cfg))
		err := cfg.Validate()
		require.ErrorIs(t, err, ErrInvalid, c.yaml)
		require.Contains(t, err.Error(), c.field+":", c.yaml)
	}
}

func TestConfigSecretsStayOutOfErrors(t *testing.T) {
	t.Parallel()
	c := Config{Sinks: []SinkConfig{{Name: "h", Type: TypeSplunkHEC, HTTP: &HTTPConfig{URL: "nope", Token: "s3cr3t"}}}}
	err := c.Validate()
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t")
}
