package export

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Format names.
const (
	FormatNative = "native"
	FormatOCSF   = "ocsf"
	FormatECS    = "ecs"
	// FormatSlack is a Slack-compatible message per event ({"text": …}),
	// for the webhook sink.
	FormatSlack = "slack"
)

// Stream names used in SinkConfig.Streams.
const (
	StreamAudit   = "audit"
	StreamControl = "control"
)

// Defaults of the fields every sink has.
const (
	DefaultBatchMaxEvents = 500
	DefaultBatchMaxWait   = time.Second
	DefaultRetryInitial   = 500 * time.Millisecond
	DefaultRetryMax       = 30 * time.Second
)

// MaxBatchEvents bounds batch.max_events.
const MaxBatchEvents = 100000

// ErrInvalid marks an export configuration that cannot run; the message
// names the field (export.sinks[i].field).
var ErrInvalid = errors.New("invalid export configuration")

// Invalid returns an ErrInvalid naming field, for a sink's Settings too.
func Invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// Config is the `export:` section of the tollgate YAML config.
type Config struct {
	Sinks []SinkConfig `yaml:"sinks"`
}

// SinkConfig is one export destination with its own durable consumer: the
// fields every sink has, and the settings of its type (Settings, from the
// type's section: file:, syslog:, http:, sql:).
type SinkConfig struct {
	// Name identifies the sink; its durable consumer is "export-<name>".
	// Letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Type names the sink's SinkType: file, syslog, splunk_hec,
	// elasticsearch, webhook, sql.
	Type string `yaml:"type"`
	// Format: native (default; the type's, ecs for elasticsearch), ocsf,
	// ecs.
	Format string `yaml:"format"`
	// Streams to export: audit (default) and/or control.
	Streams []string `yaml:"streams"`
	Filter  Filter   `yaml:"filter"`
	Batch   Batch    `yaml:"batch"`
	Retry   Retry    `yaml:"retry"`

	// Settings are the type's own settings, a type of its sink's package
	// (file.Config, …). Validate decodes them from the type's section;
	// code may set them instead, and then they win over the section.
	Settings Settings `yaml:"-"`
	// Sections holds the sink's other YAML keys, the sections of sink
	// types, until Validate decodes the one of Type (and refuses a key
	// that is no type's section).
	Sections map[string]yaml.Node `yaml:",inline"`
}

// Filter selects events. Subjects are NATS subject patterns applied by the
// server (the consumer's filter subjects): each applies to the stream whose
// prefix it has (tollgate.audit. or tollgate.control.), and a stream with
// none of them is exported whole. Types are event type names applied by the
// subscriber (skipped events are acked). Empty means everything.
type Filter struct {
	Types    []string `yaml:"types"`
	Subjects []string `yaml:"subjects"`
}

// Batch bounds one delivery.
type Batch struct {
	MaxEvents int           `yaml:"max_events"`
	MaxWait   time.Duration `yaml:"max_wait"`
}

// Retry is the exponential backoff between attempts; attempts never stop
// (events are never dropped).
type Retry struct {
	Initial time.Duration `yaml:"initial"`
	Max     time.Duration `yaml:"max"`
}

// Validate fills defaults and checks every sink against the sink types
// known (the composition root's: export/sink.Types); the error names the
// field (export.sinks[i].field).
func (c *Config) Validate(types SinkTypes) error {
	seen := map[string]bool{}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		p := fmt.Sprintf("export.sinks[%d]", i)
		if err := s.Validate(p, types); err != nil {
			return err
		}
		if seen[s.Name] {
			return Invalid(p+".name", "%q is used twice: sink names must be unique", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// Validate fills the defaults of sink s, at path p (export.sinks[i]),
// checks its common fields, and has its type decode and check its own
// settings.
func (s *SinkConfig) Validate(p string, types SinkTypes) error {
	t, known := types.Lookup(s.Type)
	if err := s.checkKeys(p, types, t.Section); err != nil {
		return err
	}
	s.fill(t)
	if err := s.validateCommon(p); err != nil {
		return err
	}
	switch {
	case s.Type == "":
		return Invalid(p+".type", "required: %s", types.names())
	case !known:
		return Invalid(p+".type", "%q: use %s", s.Type, types.names())
	}
	if err := s.decodeSettings(p, t); err != nil {
		return err
	}
	return s.Settings.Validate(p, s)
}

// fill applies the common defaults (the format the type's).
func (s *SinkConfig) fill(t SinkType) {
	if s.Format == "" {
		s.Format = FormatNative
		if t.Format != "" {
			s.Format = t.Format
		}
	}
	if len(s.Streams) == 0 {
		s.Streams = []string{StreamAudit}
	}
	if s.Batch.MaxEvents == 0 {
		s.Batch.MaxEvents = DefaultBatchMaxEvents
	}
	if s.Batch.MaxWait == 0 {
		s.Batch.MaxWait = DefaultBatchMaxWait
	}
	if s.Retry.Initial == 0 {
		s.Retry.Initial = DefaultRetryInitial
	}
	if s.Retry.Max == 0 {
		s.Retry.Max = DefaultRetryMax
	}
}

func (s *SinkConfig) validateCommon(p string) error {
	if !ValidName(s.Name) {
		return Invalid(p+".name", "%q: use letters, digits, '-' and '_'", s.Name)
	}
	switch s.Format {
	case FormatSlack:
		if s.Type != "webhook" { // httpsink.TypeWebhook: the one sink that posts a message per event
			return Invalid(p+".format", "slack: a Slack message per event is for the webhook sink")
		}
	case FormatNative, FormatOCSF, FormatECS:
	default:
		return Invalid(p+".format", "%q: use native, ocsf, ecs or slack (webhook only)", s.Format)
	}
	for j, st := range s.Streams {
		if st != StreamAudit && st != StreamControl {
			return Invalid(fmt.Sprintf("%s.streams[%d]", p, j), "%q: use audit or control", st)
		}
	}
	for j, subj := range s.Filter.Subjects {
		if subj == "" || strings.ContainsAny(subj, " \t") || !strings.HasPrefix(subj, "tollgate.") {
			return Invalid(fmt.Sprintf("%s.filter.subjects[%d]", p, j), "%q: use a subject pattern under tollgate.audit. or tollgate.control.", subj)
		}
	}
	if s.Batch.MaxEvents < 1 || s.Batch.MaxEvents > MaxBatchEvents {
		return Invalid(p+".batch.max_events", "%d: use 1 to %d", s.Batch.MaxEvents, MaxBatchEvents)
	}
	if s.Batch.MaxWait < 0 {
		return Invalid(p+".batch.max_wait", "%s: must be positive", s.Batch.MaxWait)
	}
	if s.Retry.Initial <= 0 || s.Retry.Max < s.Retry.Initial {
		return Invalid(p+".retry", "initial %s, max %s: need 0 < initial <= max", s.Retry.Initial, s.Retry.Max)
	}
	return nil
}

// ValidName reports whether s is a name of letters, digits, '-' and '_'
// (a sink's, a SQL sink's table).
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
