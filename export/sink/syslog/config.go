package syslog

import (
	"net"

	"github.com/tollgate-db/tollgate/export"
)

// Type is the sink type's name in SinkConfig.Type.
const Type = "syslog"

// Defaults.
const (
	DefaultFacility = 13 // log audit
	DefaultAppName  = "tollgate"
)

// Config is the sink's `syslog:` section: RFC 5424 over TCP (octet
// counting) or TLS.
type Config struct {
	Addr string `yaml:"addr"`
	// TLS enables TLS; CAFile verifies the server, CertFile/KeyFile is an
	// optional client cert.
	TLS        bool   `yaml:"tls"`
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
	// Facility is the syslog facility number, 0 to 23 (default 13, log
	// audit; 0 means the default).
	Facility int `yaml:"facility"`
	// AppName is the APP-NAME field (default "tollgate").
	AppName string `yaml:"app_name"`
	// Hostname is the HOSTNAME field (default the machine's).
	Hostname string `yaml:"hostname"`
}

var _ export.Settings = (*Config)(nil)

// SinkType is the syslog sink for export.Config.Validate.
func SinkType() export.SinkType {
	return export.SinkType{Name: Type, Section: "syslog", New: func() export.Settings { return &Config{} }}
}

// Validate fills the defaults and checks the section of sink sc.
func (c *Config) Validate(p string, sc *export.SinkConfig) error {
	c.fill()
	return c.check(p+".syslog", sc.Type)
}

// Open loads the TLS files; the sink connects on its first Write.
func (c *Config) Open(*export.SinkConfig) (export.Sink, error) {
	return export.Opened(New(*c))
}

func (c *Config) fill() {
	if c.Facility == 0 {
		c.Facility = DefaultFacility
	}
	if c.AppName == "" {
		c.AppName = DefaultAppName
	}
}

// check checks filled settings; errors name the field under p.
func (c *Config) check(p, typ string) error {
	if c.Addr == "" {
		return export.Invalid(p+".addr", "required for type %s", typ)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return export.Invalid(p+".addr", "%q: use HOST:PORT", c.Addr)
	}
	if c.Facility < 0 || c.Facility > 23 {
		return export.Invalid(p+".facility", "%d: use 0 to 23", c.Facility)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return export.Invalid(p+".cert_file", "cert_file and key_file go together")
	}
	return nil
}
