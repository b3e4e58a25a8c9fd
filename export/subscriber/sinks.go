package subscriber

import (
	"fmt"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink"
)

// NewSink validates cfg and builds the sink it describes.
func NewSink(cfg export.SinkConfig) (export.Sink, error) {
	cfg, err := validated(cfg)
	if err != nil {
		return nil, err
	}
	s, err := cfg.Settings.Open(&cfg)
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", cfg.Name, err)
	}
	return s, nil
}

// validated returns cfg with its defaults filled and its settings decoded,
// or the error naming what is wrong.
func validated(cfg export.SinkConfig) (export.SinkConfig, error) {
	one := export.Config{Sinks: []export.SinkConfig{cfg}}
	if err := one.Validate(sink.Types()); err != nil {
		return export.SinkConfig{}, err
	}
	return one.Sinks[0], nil
}
