package file

import "github.com/tollgate-db/tollgate/export"

// Type is the sink type's name in SinkConfig.Type.
const Type = "file"

// Fsync policies.
const (
	FsyncAlways = "always" // after every event
	FsyncBatch  = "batch"  // after every batch (default)
	FsyncNever  = "never"
)

// Defaults.
const (
	DefaultMaxBytes   = 100 << 20
	DefaultMaxBackups = 10
)

// Config is the sink's `file:` section.
type Config struct {
	Path string `yaml:"path"`
	// MaxBytes rotates the file when it would grow past this size.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxBackups keeps this many rotated files (path.1 … path.N).
	MaxBackups int    `yaml:"max_backups"`
	Fsync      string `yaml:"fsync"`
}

var _ export.Settings = (*Config)(nil)

// SinkType is the file sink for export.Config.Validate.
func SinkType() export.SinkType {
	return export.SinkType{Name: Type, Section: "file", New: func() export.Settings { return &Config{} }}
}

// Validate fills the defaults and checks the section of sink sc.
func (c *Config) Validate(p string, sc *export.SinkConfig) error {
	c.fill()
	return c.check(p+".file", sc.Type)
}

// Open opens the file.
func (c *Config) Open(*export.SinkConfig) (export.Sink, error) {
	return export.Opened(New(*c))
}

func (c *Config) fill() {
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxBackups == 0 {
		c.MaxBackups = DefaultMaxBackups
	}
	if c.Fsync == "" {
		c.Fsync = FsyncBatch
	}
}

// check checks filled settings; errors name the field under p.
func (c *Config) check(p, typ string) error {
	if c.Path == "" {
		return export.Invalid(p+".path", "required for type %s", typ)
	}
	switch c.Fsync {
	case FsyncAlways, FsyncBatch, FsyncNever:
	default:
		return export.Invalid(p+".fsync", "%q: use always, batch or never", c.Fsync)
	}
	if c.MaxBytes < 0 {
		return export.Invalid(p+".max_bytes", "%d: must be positive", c.MaxBytes)
	}
	if c.MaxBackups < 0 {
		return export.Invalid(p+".max_backups", "%d: must be positive", c.MaxBackups)
	}
	return nil
}
