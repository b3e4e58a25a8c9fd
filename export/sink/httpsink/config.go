package httpsink

import (
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/export"
)

// The sink types' names in SinkConfig.Type.
const (
	TypeSplunkHEC     = "splunk_hec"
	TypeElasticsearch = "elasticsearch"
	TypeWebhook       = "webhook"
)

// Defaults.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultSignatureHeader = "X-Tollgate-Signature"
	DefaultDataStream      = "logs-tollgate.audit-default"
)

// Config is the `http:` section of the splunk_hec, elasticsearch and
// webhook sinks.
type Config struct {
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
	// perEvent (format slack) posts each event as its own request, a
	// Slack-compatible message, instead of a batch as one JSON array.
	perEvent bool
	// SignatureHeader carries the webhook signature (default
	// "X-Tollgate-Signature", value "sha256=<hex>").
	SignatureHeader string `yaml:"signature_header"`
	CAFile          string `yaml:"ca_file"`
	// Timeout bounds one request (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

var _ export.Settings = (*Config)(nil)

// SinkTypes are the three HTTP sinks for export.Config.Validate; their
// settings are the same section.
func SinkTypes() []export.SinkType {
	settings := func() export.Settings { return &Config{} }
	return []export.SinkType{
		{Name: TypeSplunkHEC, Section: "http", New: settings},
		{Name: TypeElasticsearch, Section: "http", Format: export.FormatECS, New: settings},
		{Name: TypeWebhook, Section: "http", New: settings},
	}
}

// Validate fills the defaults and checks the section for sink sc's type:
// a HEC token, a webhook secret, an Elasticsearch data stream (and ecs).
func (c *Config) Validate(p string, sc *export.SinkConfig) error {
	c.fill(sc.Format)
	h := p + ".http"
	if c.URL == "" {
		return export.Invalid(h+".url", "required for type %s", sc.Type)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return export.Invalid(h+".url", "%q: use an http:// or https:// URL", c.URL)
	}
	switch sc.Type {
	case TypeSplunkHEC:
		if c.Token == "" && c.TokenFile == "" {
			return export.Invalid(h+".token", "a HEC token (token or token_file) is required")
		}
	case TypeWebhook:
		c.perEvent = sc.Format == export.FormatSlack
		if c.Secret == "" && c.SecretFile == "" && !c.perEvent {
			return export.Invalid(h+".secret", "an HMAC secret (secret or secret_file) is required (format slack needs none: its URL is its secret)")
		}

	case TypeElasticsearch:
		if sc.Format != export.FormatECS {
			return export.Invalid(p+".format", "%q: elasticsearch data streams need ecs (it carries @timestamp)", sc.Format)
		}
		if !strings.HasPrefix(c.DataStream, "logs-") && !strings.HasPrefix(c.DataStream, "tollgate") {
			return export.Invalid(h+".data_stream", "%q: use a data stream name like logs-tollgate.audit-default", c.DataStream)
		}
	}
	return checkTimeout(h, c.Timeout)
}

func checkTimeout(p string, d time.Duration) error {
	if d < 0 {
		return export.Invalid(p+".timeout", "%s: must be positive", d)
	}
	return nil
}

// Open builds the sink of sc's type.
func (c *Config) Open(sc *export.SinkConfig) (export.Sink, error) {
	switch sc.Type {
	case TypeSplunkHEC:
		return export.Opened(NewHEC(*c))
	case TypeElasticsearch:
		return export.Opened(NewBulk(*c))
	case TypeWebhook:
		return export.Opened(NewWebhook(*c))
	}
	return nil, export.Invalid("type", "%q is no HTTP sink", sc.Type)
}

func (c *Config) fill(format string) {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.SignatureHeader == "" {
		c.SignatureHeader = DefaultSignatureHeader
	}
	if c.DataStream == "" {
		c.DataStream = DefaultDataStream
	}
	if c.SourceType == "" {
		c.SourceType = "tollgate:" + format
	}
}
