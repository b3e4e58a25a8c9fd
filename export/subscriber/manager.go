package subscriber

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink"
)

// Manager runs every sink of an export.Config.
type Manager struct {
	subs []*Subscriber
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// Start validates cfg, builds every sink and starts its subscriber. The
// subscribers stop when ctx ends; Wait waits for them.
func Start(ctx context.Context, js jetstream.JetStream, cfg export.Config, opts Options) (*Manager, error) {
	if err := cfg.Validate(sink.Types()); err != nil {
		return nil, err
	}
	m := &Manager{}
	for _, sc := range cfg.Sinks {
		s, err := NewSink(sc)
		if err != nil {
			return nil, err
		}
		sub, err := New(js, sc, s, opts)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("export sink %s: %w", sc.Name, err)
		}
		m.subs = append(m.subs, sub)
	}
	for _, sub := range m.subs {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			if err := sub.Run(ctx); err != nil {
				sub.log.Error().Err(err).Msg("export sink stopped")
				m.mu.Lock()
				m.errs = append(m.errs, err)
				m.mu.Unlock()
			}
		}()
	}
	return m, nil
}

// Status returns every sink's status.
func (m *Manager) Status(ctx context.Context) []Status {
	out := make([]Status, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s.Status(ctx))
	}
	return out
}

// Wait waits until every subscriber stopped and returns their setup errors.
func (m *Manager) Wait() error {
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(m.errs...)
}
