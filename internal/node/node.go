package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/catchupgc"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/datadir"
)

// Env is what Options.Ready sees of a running node: its configuration, the
// open event log, control when it runs in this process (nil otherwise)
// and its API address as clients reach it, the agent when the config has
// a db_service section (nil otherwise), and control's metrics listener
// (nil when there is none, or when the agent's listener serves that
// address). Run fills it once every part is built; no part reads it.
type Env struct {
	Config      config.Config
	Log         *jetstream.Log
	Control     *control.Service
	ControlAddr string
	Agent       *gateway.Gateway
	MetricsAddr net.Addr
}

// component is one long-running part of the daemon. Run blocks until ctx
// ends (returning nil) or the component fails.
type component interface {
	Name() string
	Run(ctx context.Context) error
}

// Options extend Run.
type Options struct {
	// Ready, if set, is called once everything is started.
	Ready func(env *Env)
	// Agent tunes the agent (run when the config has a db_service
	// section); the export subscribers run when it has an export section.
	Agent AgentOptions
}

// Run runs the node until ctx ends, then shuts everything down: components
// first, then the API, then the event log.
func Run(ctx context.Context, cfg config.Config, log zerolog.Logger, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	// One process per data dir: a second one would run its own embedded
	// NATS on the same store, rewrite the admin identity and race the
	// first for the streams. The kernel drops the lock when this process
	// ends, however it ends.
	lock, err := datadir.Acquire(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	agent := agentPlan{reloadOnSIGHUP: opts.Agent.ReloadOnSIGHUP}
	if cfg.AgentEnabled {
		if agent.opt, err = agentGatewayOptions(cfg, opts.Agent); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
	}
	lg, err := openLog(ctx, cfg, agent.opt, log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := lg.Close(cctx); err != nil {
			log.Warn().Err(err).Msg("close event log")
		}
	}()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Composing starts control, which returns once its projection has
	// caught up with the control stream.
	restoreGC := catchupgc.Raise(os.LookupEnv, catchupgc.Memory())
	comps, env, err := compose(runCtx, cfg, agent, lg, log)
	restoreGC()
	if err != nil {
		return err
	}
	return runAll(runCtx, cancel, comps, func() {
		if opts.Ready != nil {
			opts.Ready(env)
		}
		log.Info().Str("control", env.ControlAddr).Msg("tollgate started")
	}, log)
}

// eventLog is the open event log and how this process reached it.
type eventLog struct {
	*jetstream.Log
	// remote is a separate agent's connection to control (nil: control
	// runs here).
	remote *join.Remote
	// agentID is a leaf agent's id (its log has a Hub).
	agentID string
	// nats is the embedded server's listener for agents on other hosts
	// (nil: none).
	nats *natsListener
}

// openLog opens the event log: embedded (with its listener for agents on
// other hosts) or external. A separate agent process joins control first,
// with gopt: the join says where NATS is.
func openLog(ctx context.Context, cfg config.Config, gopt gateway.Options, log zerolog.Logger) (eventLog, error) {
	jc := jetstream.Config{URL: cfg.NATS.URL, CredsFile: cfg.NATS.Creds, CAFile: cfg.NATS.CAFile,
		CertFile: cfg.NATS.CertFile, KeyFile: cfg.NATS.KeyFile, DataDir: cfg.DataDir, Replicas: cfg.NATS.Replicas, Logger: log}
	var remote *join.Remote
	if !cfg.ControlEnabled() && cfg.AgentEnabled {
		r, id, err := remoteJoin(ctx, &cfg, gopt)
		if err != nil {
			return eventLog{}, err
		}
		if cfg.Agent.DBService.AuditLeaf.Enabled() {
			lg, err := openLeafLog(ctx, cfg, id, log)
			if err != nil {
				return eventLog{}, err
			}
			return eventLog{Log: lg, remote: r, agentID: id.AgentID}, nil
		}
		if jc, err = remoteLogConfig(cfg, id); err != nil {
			return eventLog{}, err
		}
		jc.Logger, remote = log, r
	}
	nl := newNATSListener(cfg, &jc)
	lg, err := jetstream.Open(ctx, jc)
	if err != nil {
		if remote != nil {
			return eventLog{}, remoteLogError(cfg, jc, err)
		}
		return eventLog{}, err
	}
	where := "embedded NATS JetStream in " + filepath.Join(cfg.DataDir, "jetstream")
	if jc.URL != "" {
		where = jc.URL
	}
	log.Info().Str("event_log", where).Msg("event log open")
	return eventLog{Log: lg, remote: remote, nats: nl}, nil
}

// agentPlan is the agent a node runs (when its config has a db_service
// section).
type agentPlan struct {
	opt            gateway.Options
	reloadOnSIGHUP bool
}

// compose builds the node's parts, each from what it needs: control (when
// it runs here), the agent (a db_service section), the export subscribers
// (an export section) and control's metrics listener.
func compose(ctx context.Context, cfg config.Config, agent agentPlan, lg eventLog, log zerolog.Logger) ([]component, *Env, error) {
	env := &Env{Config: cfg, Log: lg.Log}
	reg := prometheus.NewRegistry()
	exp, err := newExport(cfg.Export, lg.Log, reg, log)
	if err != nil {
		return nil, nil, err
	}
	leases, err := openLeases(ctx, cfg, lg.JS, log)
	if err != nil {
		return nil, nil, err
	}
	if exp != nil {
		exp.leases = leases
	}
	var comps []component
	if cfg.ControlEnabled() {
		status := func(context.Context) wire.ExportStatus { return wire.ExportStatus{} }
		if exp != nil {
			status = exp.status
		}
		c, err := newControl(ctx, cfg, lg.Log, lg.nats, status, log)
		if err != nil {
			return nil, nil, err
		}
		c.leases = leases
		comps = append(comps, c)
		if lg.nats != nil && lg.nats.leaves != nil {
			comps = append(comps, &leafSourcer{l: lg.nats.leaves, js: lg.JS, log: log})
		}
		env.Control, env.ControlAddr = c.svc, c.addr
	}
	agentMetrics := ""
	if cfg.AgentEnabled {
		deps := gateway.Deps{ControlStream: lg.Control, AuditStream: lg.Audit, Registry: reg, Logger: log}
		if cfg.AgentTunnel() {
			tl, err := openTunnel(cfg, log)
			if err != nil {
				return nil, nil, err
			}
			deps.Tunnel = tl
		}
		gw, err := newAgent(ctx, cfg, agent.opt, env.Control, lg.remote, deps)
		if err != nil {
			return nil, nil, err
		}
		comps = append(comps, &agentComponent{gw: gw, hup: agent.reloadOnSIGHUP})
		env.Agent, agentMetrics = gw, agent.opt.MetricsAddr
	}
	if exp != nil {
		comps = append(comps, exp)
	}
	if lg.Hub != nil {
		comps = append(comps, newLeafTrimmer(lg.Log, lg.agentID, log))
	}
	if addr := controlMetricsAddr(cfg, env.Control != nil, agentMetrics); addr != "" {
		m, err := newMetrics(addr, lg.Log, reg, log)
		if err != nil {
			return nil, nil, err
		}
		comps = append(comps, m)
		env.MetricsAddr = m.ln.Addr()
	}
	return comps, env, nil
}

// runAll runs the components until ctx ends or one fails (which cancels
// the rest), calling ready once all are started, and returns their
// errors.
func runAll(ctx context.Context, cancel context.CancelFunc, comps []component, ready func(), log zerolog.Logger) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, c := range comps {
		wg.Add(1)
		go func(c component) {
			defer wg.Done()
			if err := c.Run(ctx); err != nil && ctx.Err() == nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", c.Name(), err))
				mu.Unlock()
				cancel()
			}
		}(c)
	}
	ready()
	<-ctx.Done()
	log.Info().Msg("shutting down")
	wg.Wait()
	return errors.Join(errs...)
}
