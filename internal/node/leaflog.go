package node

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/schemas"
)

// openLeafLog is a leaf agent's event log (db_service.audit_leaf): its own
// NATS server and JetStream in <data_dir>/leaf-jetstream, connected as a
// leaf node to control's leaf listener with the agent's host cert.
func openLeafLog(ctx context.Context, cfg config.Config, id *join.Identity, log zerolog.Logger) (*jetstream.Log, error) {
	al := cfg.Agent.DBService.AuditLeaf
	u, err := url.Parse(al.HubURL)
	if err != nil {
		return nil, fmt.Errorf("%w: db_service.audit_leaf.hub_url %q: %w", config.ErrInvalid, al.HubURL, err)
	}
	dir := join.Dir(cfg.DataDir)
	lc := jetstream.LeafConfig{
		Config: jetstream.Config{DataDir: cfg.DataDir, Logger: log,
			Embedded: embedded.Config{SyncAlways: cfg.Agent.DBService.SpoolSync == agentconfig.SpoolSyncAlways}},
		Domain:    jetstream.LeafDomain(id.AgentID),
		HubDomain: al.HubDomain,
		MaxBytes:  int64(al.MaxBytes),
		Hub: embedded.LeafRemote{URLs: []string{al.HubURL},
			TLSConfig: reloadingTLS(dir, u.Hostname())},
	}
	lg, err := jetstream.OpenLeaf(ctx, lc)
	if err != nil {
		return nil, err
	}
	log.Info().Str("hub", al.HubURL).Str("domain", lc.Domain).Str("store", filepath.Join(cfg.DataDir, "leaf-jetstream")).
		Msg("audit is durable in this agent's own JetStream; the hub sources it")
	return lg, nil
}

// leafTrimInterval is how often a leaf agent drops from its local audit
// stream what the hub has stored.
const leafTrimInterval = 10 * time.Second

// leafWatchInterval is how often a leaf agent looks at its link to the
// hub, to log when it goes down and comes back.
const leafWatchInterval = time.Second

// leafTrimmer is the component that watches a leaf agent's link to the
// hub and trims its local audit stream (jetstream.Log.TrimSourced) by its
// checkpoints in the hub.
type leafTrimmer struct {
	lg      *jetstream.Log
	subject string
	log     zerolog.Logger
}

func newLeafTrimmer(lg *jetstream.Log, agentID string, log zerolog.Logger) *leafTrimmer {
	return &leafTrimmer{lg: lg, subject: eventlog.AuditSubject("", "", agentID, schemas.TypeAuditCheckpoint), log: log}
}

func (t *leafTrimmer) Name() string { return "leaf trim" }

func (t *leafTrimmer) Run(ctx context.Context) error {
	tk := time.NewTicker(leafWatchInterval)
	defer tk.Stop()
	var last uint64
	up, since := true, time.Now()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
		now := t.lg.Server.LeafConnected()
		switch {
		case up && !now:
			t.log.Warn().Msg("the link to the hub is down: audit events stay in this agent's JetStream until it is back")
			since = time.Now()
		case !up && now:
			t.log.Info().Dur("after", time.Since(since).Round(time.Second)).Msg("the link to the hub is back: the hub takes the events kept here")
		}
		up = now
		if !up || n%int(leafTrimInterval/leafWatchInterval) != 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		seq, err := t.lg.TrimSourced(cctx, t.subject)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			t.log.Debug().Err(err).Msg("trim the local audit stream")
		case seq > last:
			last = seq
			t.log.Debug().Uint64("below", seq).Msg("local audit stream trimmed: the hub holds these events")
		}
	}
}
