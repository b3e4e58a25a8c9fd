package node

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

// leafRecheck is how often control makes sure again that the hub's audit
// stream sources every leaf agent it has seen (another control's update
// may have dropped one: JetStream has no compare-and-set for configs).
const leafRecheck = 30 * time.Second

// leafSources keeps the hub's audit stream sourcing the leaf agents that
// connected to this control's leaf-node listener.
type leafSources struct {
	audit string
	mu    sync.Mutex
	seenD map[string]bool
	kick  chan struct{}
}

func newLeafSources(audit string) *leafSources {
	return &leafSources{audit: audit, seenD: map[string]bool{}, kick: make(chan struct{}, 1)}
}

// seen notes a leaf agent's domain; Run adds its source.
func (l *leafSources) seen(domain string) {
	l.mu.Lock()
	l.seenD[domain] = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *leafSources) domains() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.seenD))
}

// leafSourcer is the component running leafSources on the hub's
// JetStream.
type leafSourcer struct {
	l   *leafSources
	js  natsjs.JetStream
	log zerolog.Logger
}

func (c *leafSourcer) Name() string { return "leaf sources" }

func (c *leafSourcer) Run(ctx context.Context) error {
	t := time.NewTicker(leafRecheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.l.kick:
		case <-t.C:
		}
		for _, d := range c.l.domains() {
			added, err := jetstream.AddLeafSource(ctx, c.js, c.l.audit, d)
			switch {
			case err != nil && ctx.Err() == nil:
				c.log.Warn().Err(err).Str("domain", d).Msg("the audit stream does not source this leaf agent yet; retrying")
			case added:
				c.log.Info().Str("domain", d).Msg("the audit stream sources a new leaf agent")
			}
		}
	}
}
