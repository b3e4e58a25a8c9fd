package export

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// fakeSettings are a test sink type's section: a required addr and a
// size that must not be negative.
type fakeSettings struct {
	Addr string `yaml:"addr"`
	Size int    `yaml:"size"`
}

func (f *fakeSettings) Validate(p string, sc *SinkConfig) error {
	if f.Addr == "" {
		return Invalid(p+".fake.addr", "required for type %s", sc.Type)
	}
	if f.Size < 0 {
		return Invalid(p+".fake.size", "%d: must be positive", f.Size)
	}
	return nil
}

func (f *fakeSettings) Open(*SinkConfig) (Sink, error) { return nil, nil }

type otherSettings struct {
	fakeSettings `yaml:",inline"`
	Port         int
}

var fakeTypes = SinkTypes{
	{Name: "fake", Section: "fake", New: func() Settings { return &fakeSettings{} }},
	{Name: "fake_ocsf", Section: "fake", Format: FormatOCSF, New: func() Settings { return &fakeSettings{} }},
	{Name: "other", Section: "other", New: func() Settings { return &otherSettings{} }},
}

func validate(t *testing.T, doc string) (Config, error) {
	t.Helper()
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(doc), &c))
	return c, c.Validate(fakeTypes)
}

// TestCommonDefaults: the fields every sink has get their defaults, the
// format the type's, and the type's section is decoded into its settings.
func TestCommonDefaults(t *testing.T) {
	t.Parallel()
	c, err := validate(t, "sinks:\n- {name: a, type: fake, fake: {addr: x}}\n- {name: b, type: fake_ocsf, fake: {addr: y, size: 3}}\n")
	require.NoError(t, err)
	a := c.Sinks[0]
	require.Equal(t, FormatNative, a.Format)
	require.Equal(t, []string{StreamAudit}, a.Streams)
	require.Equal(t, Batch{MaxEvents: DefaultBatchMaxEvents, MaxWait: DefaultBatchMaxWait}, a.Batch)
	require.Equal(t, Retry{Initial: DefaultRetryInitial, Max: DefaultRetryMax}, a.Retry)
	require.Equal(t, &fakeSettings{Addr: "x"}, a.Settings)
	require.Equal(t, FormatOCSF, c.Sinks[1].Format)
	require.Equal(t, &fakeSettings{Addr: "y", Size: 3}, c.Sinks[1].Settings)

	set := Config{Sinks: []SinkConfig{{Name: "c", Type: "fake", Settings: &fakeSettings{Addr: "z"}}}}
	require.NoError(t, set.Validate(fakeTypes), "settings set in code need no section")
	require.Equal(t, &fakeSettings{Addr: "z"}, set.Sinks[0].Settings)
}

// TestNonsenseIsAnError: negative or out-of-range numbers, unknown keys
// and settings of another type are errors naming the field, not defaults.
func TestNonsenseIsAnError(t *testing.T) {
	t.Parallel()
	cases := []struct{ doc, field, msg string }{
		{`{name: a, type: fake, fake: {addr: x}, batch: {max_events: -1}}`, "export.sinks[0].batch.max_events", "-1: use 1 to 100000"},
		{`{name: a, type: fake, fake: {addr: x}, batch: {max_events: 100001}}`, "export.sinks[0].batch.max_events", "100001: use 1 to 100000"},
		{`{name: a, type: fake, fake: {addr: x}, batch: {max_wait: -1s}}`, "export.sinks[0].batch.max_wait", "-1s: must be positive"},
		{`{name: a, type: fake, fake: {addr: x}, retry: {initial: -1s}}`, "export.sinks[0].retry", "need 0 < initial <= max"},
		{`{name: a, type: fake, fake: {addr: x}, retry: {initial: 2s, max: 1s}}`, "export.sinks[0].retry", "need 0 < initial <= max"},
		{`{name: a, type: fake, fake: {addr: x}, filter: {subjects: ["other.x"]}}`, "export.sinks[0].filter.subjects[0]", "under tollgate.audit."},
		{`{name: a, type: fake, fake: {addr: x, size: -5}}`, "export.sinks[0].fake.size", "-5: must be positive"},
		{`{name: a, type: fake}`, "export.sinks[0].fake.addr", "required for type fake"},
		{`{name: a, type: fake, fake: {adr: x}}`, "export.sinks[0].fake.adr", "unknown field (line 2): known fields here: addr, size"},
		{`{name: a, type: fake, fake: {addr: x, size: big}}`, "export.sinks[0].fake", "cannot unmarshal"},
		{`{name: a, type: fake, fake: {addr: x}, other: {sise: 1}}`, "export.sinks[0].other.sise", "unknown field (line 2): known fields here: addr, port, size"},
		{`{name: a, type: fake, fake: {addr: x}, fak: {addr: y}}`, "export.sinks[0].fak", "unknown field (line 2): use name, type, format, streams, filter, batch, retry or a sink type's section (fake, other)"},
		{`{name: a}`, "export.sinks[0].type", "required: fake, fake_ocsf or other"},
		{`{name: a, type: ftp}`, "export.sinks[0].type", `"ftp": use fake, fake_ocsf or other`},
	}
	for _, c := range cases {
		_, err := validate(t, "sinks:\n- "+c.doc+"\n")
		require.ErrorIs(t, err, ErrInvalid, c.doc)
		require.ErrorContains(t, err, c.field+": ", c.doc)
		require.ErrorContains(t, err, c.msg, c.doc)
	}
	wrong := Config{Sinks: []SinkConfig{{Name: "a", Type: "fake", Settings: &otherSettings{}}}}
	require.ErrorContains(t, wrong.Validate(fakeTypes), "export.sinks[0].fake: type fake takes *export.fakeSettings settings, not *export.otherSettings")
}

// TestZeroMeansDefault: a zero batch or retry value takes the default
// (only a negative one is refused).
func TestZeroMeansDefault(t *testing.T) {
	t.Parallel()
	c, err := validate(t, "sinks:\n- {name: a, type: fake, fake: {addr: x}, batch: {max_events: 0, max_wait: 0s}, retry: {initial: 0s, max: 0s}}\n")
	require.NoError(t, err)
	require.Equal(t, DefaultBatchMaxEvents, c.Sinks[0].Batch.MaxEvents)
	require.Equal(t, DefaultRetryInitial, c.Sinks[0].Retry.Initial)
	require.Equal(t, 30*time.Second, c.Sinks[0].Retry.Max)
}
