package sink_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink"
	"github.com/tollgate-db/tollgate/export/sink/file"
	"github.com/tollgate-db/tollgate/export/sink/httpsink"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var c export.Config
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
	require.NoError(t, c.Validate(sink.Types()))
	require.Equal(t, export.FormatECS, c.Sinks[0].Format)
	require.Equal(t, []string{export.StreamAudit}, c.Sinks[0].Streams)
	require.Equal(t, "logs-tollgate.audit-default", c.Sinks[0].Settings.(*httpsink.Config).DataStream)
	require.Equal(t, 250*time.Millisecond, c.Sinks[1].Batch.MaxWait)
	require.Equal(t, file.FsyncBatch, c.Sinks[1].Settings.(*file.Config).Fsync)
	require.Equal(t, export.DefaultRetryMax, c.Sinks[1].Retry.Max)
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
		var cfg export.Config
		require.NoError(t, yaml.Unmarshal([]byte(c.yaml), &cfg))
		err := cfg.Validate(sink.Types())
		require.ErrorIs(t, err, export.ErrInvalid, c.yaml)
		require.Contains(t, err.Error(), c.field+":", c.yaml)
	}
}

func TestConfigSecretsStayOutOfErrors(t *testing.T) {
	t.Parallel()
	c := export.Config{Sinks: []export.SinkConfig{{Name: "h", Type: httpsink.TypeSplunkHEC, Settings: &httpsink.Config{URL: "nope", Token: "s3cr3t"}}}}
	err := c.Validate(sink.Types())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t")
}

// TestConfigKeysNameTheLine: a key no sink has, or one a section's
// settings do not have (of the sink's type or another's), is an error
// naming the field and its line.
func TestConfigKeysNameTheLine(t *testing.T) {
	t.Parallel()
	cases := []struct{ yaml, field, line string }{
		{"sinks:\n- name: a\n  typ: file\n", "export.sinks[0].typ", "line 3"},
		{"sinks:\n- name: a\n  type: file\n  file:\n    path: x\n    max_byte: 1\n", "export.sinks[0].file.max_byte", "line 6"},
		{"sinks:\n- name: a\n  type: syslog\n  syslog: {addr: 'h:514'}\n  http: {urll: x}\n", "export.sinks[0].http.urll", "line 5"},
		{"sinks:\n- name: a\n  type: sql\n  sql:\n    dsn: x\n    max_bytes: 3\n", "export.sinks[0].sql.max_bytes", "line 6"},
	}
	for _, c := range cases {
		var cfg export.Config
		require.NoError(t, yaml.Unmarshal([]byte(c.yaml), &cfg))
		err := cfg.Validate(sink.Types())
		require.ErrorIs(t, err, export.ErrInvalid, c.yaml)
		require.ErrorContains(t, err, c.field+": unknown field ("+c.line+")", c.yaml)
	}
}
