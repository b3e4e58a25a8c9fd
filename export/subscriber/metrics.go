package subscriber

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are shared by every subscriber on one registry.
type metrics struct {
	lag      *prometheus.GaugeVec
	exported *prometheus.CounterVec
	failures *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tollgate_export_lag_events",
			Help: "Events of the stream not yet accepted by the export sink."}, []string{"sink", "stream"}),
		exported: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_export_events_total",
			Help: "Events accepted by the export sink (skipped by filters not counted)."}, []string{"sink", "stream"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_export_write_errors_total",
			Help: "Failed export sink writes (each is retried)."}, []string{"sink", "stream"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.lag, err = register(reg, m.lag)
	if err != nil {
		return nil, err
	}
	m.exported, err = register(reg, m.exported)
	if err != nil {
		return nil, err
	}
	m.failures, err = register(reg, m.failures)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c, or returns the collector already registered under its
// name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}
