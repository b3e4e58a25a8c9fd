package sqlsink

import "github.com/tollgate-db/tollgate/export"

// Type is the sink type's name in SinkConfig.Type.
const Type = "sql"

// DefaultTable is the table events go to.
const DefaultTable = "tollgate_events"

// Config is the sink's `sql:` section: a CockroachDB or PostgreSQL
// warehouse.
type Config struct {
	// DSN is a pgx connection string. Never logged.
	DSN   string `yaml:"dsn"`
	Table string `yaml:"table"`
}

var _ export.Settings = (*Config)(nil)

// SinkType is the SQL sink for export.Config.Validate.
func SinkType() export.SinkType {
	return export.SinkType{Name: Type, Section: "sql", New: func() export.Settings { return &Config{} }}
}

// Validate fills the default table and checks the section of sink sc.
func (c *Config) Validate(p string, sc *export.SinkConfig) error {
	c.fill()
	return c.check(p+".sql", sc.Type)
}

// Open parses the DSN; the sink connects on its first Write.
func (c *Config) Open(*export.SinkConfig) (export.Sink, error) {
	return export.Opened(New(*c))
}

func (c *Config) fill() {
	if c.Table == "" {
		c.Table = DefaultTable
	}
}

// check checks filled settings; errors name the field under p.
func (c *Config) check(p, typ string) error {
	if c.DSN == "" {
		return export.Invalid(p+".dsn", "required for type %s", typ)
	}
	if !export.ValidName(c.Table) {
		return export.Invalid(p+".table", "%q: use letters, digits and '_'", c.Table)
	}
	return nil
}
