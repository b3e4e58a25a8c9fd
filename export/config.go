package export

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Sink types.
const (
	TypeFile          = "file"
	TypeSyslog        = "syslog"
	TypeSplunkHEC     = "splunk_hec"
	TypeElasticsearch = "elasticsearch"
	TypeWebhook       = "webhook"
	TypeSQL           = "sql"
)

// Format names.
const (
	FormatNative = "native"
	FormatOCSF   = "ocsf"
	FormatECS    = "ecs"
)

// Stream names used in SinkConfig.Streams.
const (
	StreamAudit   = "audit"
	StreamControl = "control"
)

// Defaults.
const (
	DefaultBatchMaxEvents = 500
	DefaultBatchMaxWait   = time.Second
	DefaultRetryInitial   = 500 * time.Millisecond
	DefaultRetryMax       = 30 * time.Second
	DefaultFileMaxBytes   = 100 << 20
	DefaultFileMaxBackups = 10
	DefaultSQLTable       = "tollgate_events"
	DefaultHTTPTimeout    = 30 * time.Second
)

// ErrInvalid marks an export configuration that cannot run; the message
// names the field (export.sinks[i].field).
var ErrInvalid = errors.New("invalid export configuration")

// Config is the `export:` section of the tollgate YAML config.
type Config struct {
	Sinks []SinkConfig `yaml:"sinks"`
}

// SinkConfig is one export destination with its own durable consumer.
type SinkConfig struct {
	// Name identifies the sink; its durable consumer is "export-<name>".
	// Letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Type: file, syslog, splunk_hec, elasticsearch, webhook, sql.
	Type string `yaml:"type"`
	// Format: native (default; ecs for elasticsearch), ocsf, ecs.
	Format string `yaml:"format"`
	// Streams to export: audit (default) and/or control.
	Streams []string `yaml:"streams"`
	Filter  Filter   `yaml:"filter"`
	Batch   Batch    `yaml:"batch"`
	Retry   Retry    `yaml:"retry"`

	File   *FileConfig   `yaml:"file"`
	Syslog *SyslogConfig `yaml:"syslog"`
	HTTP   *HTTPConfig   `yaml:"http"`
	SQL    *SQLConfig    `yaml:"sql"`
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

// Fsync policies of the file sink.
const (
	FsyncAlways = "always" // after every event
	FsyncBatch  = "batch"  // after every batch (default)
	FsyncNever  = "never"
)

// FileConfig is the JSON-lines file sink.
type FileConfig struct {
	Path string `yaml:"path"`
	// MaxBytes rotates the file when it would grow past this size.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxBackups keeps this many rotated files (path.1 … path.N).
	MaxBackups int    `yaml:"max_backups"`
	Fsync      string `yaml:"fsync"`
}

// SyslogConfig is the RFC 5424 syslog sink over TCP (octet counting) or TLS.
type SyslogConfig struct {
	Addr string `yaml:"addr"`
	// TLS enables TLS; CAFile verifies the server, CertFile/KeyFile is an
	// optional client cert.
	TLS        bool   `yaml:"tls"`
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
	// Facility is the syslog facility number (default 13, log audit).
	Facility int `yaml:"facility"`
	// AppName is the APP-NAME field (default "tollgate").
	AppName string `yaml:"app_name"`
	// Hostname is the HOSTNAME field (default the machine's).
	Hostname string `yaml:"hostname"`
}

// HTTPConfig configures the splunk_hec, elasticsearch and webhook sinks.
type HTTPConfig struct {
	// URL is the base URL (HEC, Elasticsearch) or the full webhook URL.
	URL string `yaml:"url"`
	// Token is the HEC token (or TokenFile, read at start). Never logged.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Index is the Splunk index (optional).
	Index string `yaml:"index"`
	// SourceType is the Splunk sourcetype (default "tollgate:<format>").
	SourceType string `yaml:"sourcetype"`
	// DataStream is the Elasticsearch data stream (default
	// "logs-tollgate.audit-default").
	DataStream string `yaml:"data_stream"`
	// Username/Password for Elasticsearch basic auth, or APIKey.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	APIKey   string `yaml:"api_key"`
	// Secret (or SecretFile) keys the webhook's HMAC-SHA256 signature.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// SignatureHeader carries the webhook signature (default
	// "X-Tollgate-Signature", value "sha256=<hex>").
	SignatureHeader string        `yaml:"signature_header"`
	CAFile          string        `yaml:"ca_file"`
	Timeout         time.Duration `yaml:"timeout"`
}

// SQLConfig is the SQL warehouse sink (CockroachDB or PostgreSQL).
type SQLConfig struct {
	// DSN is a pgx connection string. Never logged.
	DSN   string `yaml:"dsn"`
	Table string `yaml:"table"`
}

// Fill applies defaults in place.
func (c *Config) Fill() {
	for i := range c.Sinks {
		c.Sinks[i].Fill()
	}
}

// Fill applies defaults in place.
func (s *SinkConfig) Fill() {
	if s.Format == "" {
		s.Format = FormatNative
		if s.Type == TypeElasticsearch {
			s.Format = FormatECS
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
	if s.File != nil {
		if s.File.MaxBytes == 0 {
			s.File.MaxBytes = DefaultFileMaxBytes
		}
		if s.File.MaxBackups == 0 {
			s.File.MaxBackups = DefaultFileMaxBackups
		}
		if s.File.Fsync == "" {
			s.File.Fsync = FsyncBatch
		}
	}
	if s.Syslog != nil {
		if s.Syslog.Facility == 0 {
			s.Syslog.Facility = 13
		}
		if s.Syslog.AppName == "" {
			s.Syslog.AppName = "tollgate"
		}
	}
	if s.HTTP != nil {
		if s.HTTP.Timeout == 0 {
			s.HTTP.Timeout = DefaultHTTPTimeout
		}
		if s.HTTP.SignatureHeader == "" {
			s.HTTP.SignatureHeader = "X-Tollgate-Signature"
		}
		if s.HTTP.DataStream == "" {
			s.HTTP.DataStream = "logs-tollgate.audit-default"
		}
		if s.HTTP.SourceType == "" {
			s.HTTP.SourceType = "tollgate:" + s.Format
		}
	}
	if s.SQL != nil && s.SQL.Table == "" {
		s.SQL.Table = DefaultSQLTable
	}
}

// Validate fills defaults and checks every sink; the error names the field.
func (c *Config) Validate() error {
	c.Fill()
	seen := map[string]bool{}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		p := fmt.Sprintf("export.sinks[%d]", i)
		if err := s.validate(p); err != nil {
			return err
		}
		if seen[s.Name] {
			return invalid(p+".name", "%q is used twice: sink names must be unique", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

func validName(s string) bool {
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

func (s *SinkConfig) validate(p string) error {
	if !validName(s.Name) {
		return invalid(p+".name", "%q: use letters, digits, '-' and '_'", s.Name)
	}
	switch s.Format {
	case FormatNative, FormatOCSF, FormatECS:
	default:
		return invalid(p+".format", "%q: use native, ocsf or ecs", s.Format)
	}
	for j, st := range s.Streams {
		if st != StreamAudit && st != StreamControl {
			return invalid(fmt.Sprintf("%s.streams[%d]", p, j), "%q: use audit or control", st)
		}
	}
	for j, subj := range s.Filter.Subjects {
		if subj == "" || strings.ContainsAny(subj, " \t") || !strings.HasPrefix(subj, "tollgate.") {
			return invalid(fmt.Sprintf("%s.filter.subjects[%d]", p, j), "%q: use a subject pattern under tollgate.audit. or tollgate.control.", subj)
		}
	}
	if s.Batch.MaxEvents < 1 || s.Batch.MaxEvents > 100000 {
		return invalid(p+".batch.max_events", "%d: use 1 to 100000", s.Batch.MaxEvents)
	}
	if s.Batch.MaxWait < 0 {
		return invalid(p+".batch.max_wait", "%s: must be positive", s.Batch.MaxWait)
	}
	if s.Retry.Initial <= 0 || s.Retry.Max < s.Retry.Initial {
		return invalid(p+".retry", "initial %s, max %s: need 0 < initial <= max", s.Retry.Initial, s.Retry.Max)
	}
	need := func(ok bool, field string) error {
		if !ok {
			return invalid(p+"."+field, "required for type %s", s.Type)
		}
		return nil
	}
	switch s.Type {
	case TypeFile:
		if err := need(s.File != nil && s.File.Path != "", "file.path"); err != nil {
			return err
		}
		switch s.File.Fsync {
		case FsyncAlways, FsyncBatch, FsyncNever:
		default:
			return invalid(p+".file.fsync", "%q: use always, batch or never", s.File.Fsync)
		}
		if s.File.MaxBytes < 0 {
			return invalid(p+".file.max_bytes", "%d: must be positive", s.File.MaxBytes)
		}
	case TypeSyslog:
		if err := need(s.Syslog != nil && s.Syslog.Addr != "", "syslog.addr"); err != nil {
			return err
		}
		if _, _, err := net.SplitHostPort(s.Syslog.Addr); err != nil {
			return invalid(p+".syslog.addr", "%q: use HOST:PORT", s.Syslog.Addr)
		}
		if s.Syslog.Facility < 0 || s.Syslog.Facility > 23 {
			return invalid(p+".syslog.facility", "%d: use 0 to 23", s.Syslog.Facility)
		}
		if (s.Syslog.CertFile == "") != (s.Syslog.KeyFile == "") {
			return invalid(p+".syslog.cert_file", "cert_file and key_file go together")
		}
	case TypeSplunkHEC, TypeElasticsearch, TypeWebhook:
		if err := need(s.HTTP != nil && s.HTTP.URL != "", "http.url"); err != nil {
			return err
		}
		u, err := url.Parse(s.HTTP.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid(p+".http.url", "%q: use an http:// or https:// URL", s.HTTP.URL)
		}
		if s.Type == TypeSplunkHEC && s.HTTP.Token == "" && s.HTTP.TokenFile == "" {
			return invalid(p+".http.token", "a HEC token (token or token_file) is required")
		}
		if s.Type == TypeWebhook && s.HTTP.Secret == "" && s.HTTP.SecretFile == "" {
			return invalid(p+".http.secret", "an HMAC secret (secret or secret_file) is required")
		}
		if s.Type == TypeElasticsearch {
			if s.Format != FormatECS {
				return invalid(p+".format", "%q: elasticsearch data streams need ecs (it carries @timestamp)", s.Format)
			}
			if !strings.HasPrefix(s.HTTP.DataStream, "logs-") && !strings.HasPrefix(s.HTTP.DataStream, "tollgate") {
				return invalid(p+".http.data_stream", "%q: use a data stream name like logs-tollgate.audit-default", s.HTTP.DataStream)
			}
		}
		if s.HTTP.Timeout < 0 {
			return invalid(p+".http.timeout", "%s: must be positive", s.HTTP.Timeout)
		}
	case TypeSQL:
		if err := need(s.SQL != nil && s.SQL.DSN != "", "sql.dsn"); err != nil {
			return err
		}
		if !validName(s.SQL.Table) {
			return invalid(p+".sql.table", "%q: use letters, digits and '_'", s.SQL.Table)
		}
	case "":
		return invalid(p+".type", "required: file, syslog, splunk_hec, elasticsearch, webhook or sql")
	default:
		return invalid(p+".type", "%q: use file, syslog, splunk_hec, elasticsearch, webhook or sql", s.Type)
	}
	return nil
}
