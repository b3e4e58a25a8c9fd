package subscriber

import (
	"fmt"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/file"
	"github.com/tollgate-db/tollgate/export/sink/httpsink"
	"github.com/tollgate-db/tollgate/export/sink/sqlsink"
	"github.com/tollgate-db/tollgate/export/sink/syslog"
)

// NewSink builds the sink a validated SinkConfig describes.
func NewSink(cfg export.SinkConfig) (export.Sink, error) {
	one := export.Config{Sinks: []export.SinkConfig{cfg}}
	if err := one.Validate(); err != nil {
		return nil, err
	}
	cfg = one.Sinks[0]
	var (
		s   export.Sink
		err error
	)
	switch cfg.Type {
	case export.TypeFile:
		s, err = file.New(*cfg.File)
	case export.TypeSyslog:
		s, err = syslog.New(*cfg.Syslog)
	case export.TypeSplunkHEC:
		s, err = httpsink.NewHEC(*cfg.HTTP)
	case export.TypeElasticsearch:
		s, err = httpsink.NewBulk(*cfg.HTTP)
	case export.TypeWebhook:
		s, err = httpsink.NewWebhook(*cfg.HTTP)
	case export.TypeSQL:
		s, err = sqlsink.New(*cfg.SQL)
	default:
		return nil, fmt.Errorf("%w: sink %s: unknown type %q", export.ErrInvalid, cfg.Name, cfg.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", cfg.Name, err)
	}
	return s, nil
}
