package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/agent/cancel"
	"github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/agent/metrics"
	"github.com/tollgate-db/tollgate/agent/pgwire"
	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Defaults.
const (
	DefaultGrace = 10 * time.Second
)

// Deps are the gateway's connections to the cluster.
type Deps struct {
	// Control is how the agent reaches control (inprocess.Control or join.Remote).
	Control join.ControlPlane
	// ControlStream is followed into the agent's projection; AuditStream
	// takes its audit events.
	ControlStream eventlog.Stream
	AuditStream   eventlog.Stream
	// Registry receives the metrics (nil: a private registry).
	Registry *prometheus.Registry
	Logger   zerolog.Logger
}

// Options tune a Gateway.
type Options struct {
	// ConfigPath is re-read by Reload ("" : Reload keeps the config).
	ConfigPath string
	// Reloader, when set, replaces reading ConfigPath in Reload (the
	// daemon re-reads its whole file and hands over the agent part).
	Reloader func(ctx context.Context) (config.File, error)
	// Hostname joins the cluster under this name (default os.Hostname).
	Hostname string
	// MetricsAddr serves /metrics and /healthz; it overrides
	// db_service.metrics_addr (default 127.0.0.1:7090; "none" or "-": no
	// listener).
	MetricsAddr string
	// Grace bounds draining at shutdown (default 10s).
	Grace time.Duration
	// IdentityCheck is how often the host cert and host CA trust are
	// checked (default DefaultIdentityCheck).
	IdentityCheck time.Duration
	// Now is the clock the host cert's lifetime is judged by (default
	// time.Now).
	Now func() time.Time
	// AuditOptions tune the audit publisher.
	AuditOptions auditpub.Options
	// Floods bound what unauthenticated clients make the agent record:
	// per source and window, refusals before a verified cert and cancels
	// not forwarded past Burst are summarised (defaults: recordlimit's).
	Floods recordlimit.Options
	// MessageBudget bounds the bytes that large client messages (over
	// 64 KiB) hold at once across all sessions (default
	// DefaultMessageBudget): past it, sessions wait to read the next one.
	MessageBudget int64
}

// DefaultMessageBudget is the default Options.MessageBudget: two messages
// at the largest default size (db_service.max_message_size, 64 MiB).
const DefaultMessageBudget = 128 << 20

// runtimeConfig is what Reload replaces.
type runtimeConfig struct {
	cfg     config.File
	caFiles map[string]*x509.CertPool
}

// Gateway is a running agent.
type Gateway struct {
	deps Deps
	opt  Options
	log  zerolog.Logger
	// budget is the agent-wide bound on large client messages.
	budget *pgwire.Budget
	id     *join.Identity
	// identity is the host cert and host CA trust, renewed and refreshed by
	// maintainIdentity.
	identity   *join.Live
	identityCh chan struct{}

	rc      atomic.Pointer[runtimeConfig]
	state   *stateFollower
	creds   *credentials
	fd      *frontdoor.FrontDoor
	builder *eventlog.Builder
	auditp  *auditpub.Publisher
	ck      *auditpub.Checkpointer
	spool   *spool.Spool
	pub     *publisher
	m       *metrics.Metrics
	reg     *prometheus.Registry
	certs   *clientCerts
	cancels *cancel.Registry
	// floods limits the events of unauthenticated clients (floods.go).
	floods   *recordlimit.Limiter
	floodOpt recordlimit.Options

	ln      net.Listener
	mln     net.Listener
	pokeCh  chan struct{}
	mu      sync.Mutex
	live    map[string]*live
	wg      sync.WaitGroup
	closing atomic.Bool
}

// New joins the cluster if needed (first start, with the config's token),
// starts following the control stream and binds the listeners. Call Run.
func New(ctx context.Context, cfg config.File, deps Deps, opt Options) (*Gateway, error) {
	if deps.Control == nil || deps.ControlStream == nil || deps.AuditStream == nil {
		return nil, errors.New("gateway: Control, ControlStream and AuditStream are required")
	}
	if opt.MessageBudget <= 0 {
		opt.MessageBudget = DefaultMessageBudget
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.MetricsAddr == "" {
		opt.MetricsAddr = cfg.DBService.MetricsAddr
	}
	if opt.MetricsAddr == "" {
		opt.MetricsAddr = metrics.DefaultAddr
	}
	if opt.Hostname == "" {
		opt.Hostname, _ = os.Hostname()
	}
	if opt.IdentityCheck <= 0 {
		opt.IdentityCheck = DefaultIdentityCheck
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	g := &Gateway{deps: deps, opt: opt, log: deps.Logger.With().Str("component", "agent").Logger(),
		pokeCh: make(chan struct{}, 1), identityCh: make(chan struct{}, 1), live: map[string]*live{},
		budget: pgwire.NewBudget(opt.MessageBudget)}
	caFiles, err := loadCAFiles(cfg)
	if err != nil {
		return nil, err
	}
	g.rc.Store(&runtimeConfig{cfg: cfg, caFiles: caFiles})

	// The token is read at the first start only: once joined, the file
	// holding it may be gone.
	g.id, err = join.Load(cfg.Tollgate.DataDir)
	if errors.Is(err, os.ErrNotExist) || cfg.Tollgate.DataDir == "" {
		var token string
		if token, err = JoinToken(cfg.Tollgate); err == nil {
			g.id, err = join.Ensure(ctx, cfg.Tollgate.DataDir, deps.Control,
				join.Request{Token: token, Hostname: opt.Hostname, PublicAddr: g.publicAddr(cfg), Resources: Resources(cfg)})
		}
	}
	if err != nil {
		return nil, err
	}
	if g.identity, err = join.NewLive(cfg.Tollgate.DataDir, g.id); err != nil {
		return nil, err
	}
	if r, ok := deps.Control.(*join.Remote); ok {
		r.SetLive(g.identity)
	}
	g.log = g.log.With().Str("agent", g.id.AgentID).Logger()

	g.reg = deps.Registry
	if g.reg == nil {
		g.reg = prometheus.NewRegistry()
	}
	if g.m, err = metrics.New(g.reg); err != nil {
		return nil, err
	}
	g.builder = eventlog.NewBuilder(g.id.AgentID)
	if g.ck, err = auditpub.NewCheckpointer(auditpub.CheckpointOptions{Interval: cfg.DBService.CheckpointInterval, Builder: g.builder,
		Cert: g.identity.Certificate, Logger: g.log}); err != nil {
		return nil, err
	}
	if g.auditp, g.spool, err = openAudit(ctx, cfg, deps.AuditStream, g.id.AgentID, opt.AuditOptions, g.log, g.ck); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = g.auditp.Close(cctx)
			if g.spool != nil {
				g.spool.Close()
			}
		}
	}()
	g.pub = newPublisher(g.auditp, g.m)
	g.state = newStateFollower(deps.ControlStream, g)
	g.creds = &credentials{state: g.state}
	g.creds.cert.Store(g.identity.Certificate())
	g.certs = &clientCerts{g: g}
	if g.cancels, err = cancel.New(cancel.Options{}); err != nil {
		return nil, err
	}
	g.floodOpt = opt.Floods
	if g.floodOpt.MaxSources <= 0 {
		g.floodOpt.MaxSources = recordlimit.DefaultMaxSources
	}
	if g.floods, err = recordlimit.New(g.floodOpt); err != nil {
		return nil, err
	}
	g.fd, err = frontdoor.New(frontdoor.Config{
		AgentID: g.id.AgentID, Credentials: g.creds, Identify: identify, Catalog: catalog{g}, Authorizer: authorizer{g},
		Cancel: cancelHandler{g}, HandshakeTimeout: cfg.DBService.HandshakeTimeout, MaxConnections: cfg.DBService.MaxConnections,
	})
	if err != nil {
		return nil, err
	}
	if g.ln, err = net.Listen("tcp", cfg.DBService.ListenAddr); err != nil {
		return nil, fmt.Errorf("agent listener: %w", err)
	}
	if !config.Off(opt.MetricsAddr) {
		if g.mln, err = net.Listen("tcp", opt.MetricsAddr); err != nil {
			g.ln.Close()
			return nil, fmt.Errorf("agent metrics listener on %s (another tollgate on this host? give each process its own "+
				"db_service.metrics_addr or control.metrics_addr, or none): %w", opt.MetricsAddr, err)
		}
	}
	ok = true
	return g, nil
}

// Resources are the config's resource selectors as sent at join.
func Resources(cfg config.File) []map[string][]string {
	var res []map[string][]string
	for _, r := range cfg.DBService.Resources {
		m := map[string][]string{}
		for k, v := range r.Labels {
			m[k] = []string(v)
		}
		res = append(res, m)
	}
	return res
}

// JoinToken reads tollgate.auth_token for a join: "" when there is none
// (join.Ensure then says how to get one), else config.Join.Token.
func JoinToken(j config.Join) (string, error) {
	if j.AuthToken == "" {
		return "", nil
	}
	return j.Token()
}

func (g *Gateway) runtime() *runtimeConfig { return g.rc.Load() }

// publicAddr is the address clients dial, registered with each database.
func (g *Gateway) publicAddr(f config.File) string {
	var bound net.Addr
	if g.ln != nil {
		bound = g.ln.Addr()
	}
	return f.DBService.AdvertiseAddr(g.opt.Hostname, bound)
}

// AgentID is the agent's id in the cluster.
func (g *Gateway) AgentID() string { return g.id.AgentID }

// Addr is the PostgreSQL-wire listener's address.
func (g *Gateway) Addr() net.Addr { return g.ln.Addr() }

// MetricsAddr is the metrics listener's address (nil when disabled).
func (g *Gateway) MetricsAddr() net.Addr {
	if g.mln == nil {
		return nil
	}
	return g.mln.Addr()
}

// Name is the node component name.
func (g *Gateway) Name() string { return "agent" }

// Active returns the number of live sessions.
func (g *Gateway) Active() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.live)
}

func (g *Gateway) health() error {
	if g.closing.Load() {
		return errors.New("draining")
	}
	if g.state.pool(schemas.CAUser) == nil {
		return errors.New("no control state yet")
	}
	// A full or failing spool refuses queries: unhealthy while it lasts.
	return g.auditp.Health()
}

// Run follows the control stream, registers the static databases, serves
// until ctx ends, then drains (at most the grace period) and returns.
func (g *Gateway) Run(ctx context.Context) error {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	// Checkpoints: at the interval and after each session end, then once
	// at shutdown, after the last session's events.
	cpCtx, stopCP := context.WithCancel(bg)
	cpDone := make(chan struct{})
	go func() {
		defer close(cpDone)
		g.ck.Run(cpCtx, g.auditp)
	}()
	defer func() { stopCP(); <-cpDone }()
	go g.state.run(bg)
	go g.maintainIdentity(bg)
	if g.mln != nil {
		metricsDone := make(chan struct{})
		go func() {
			defer close(metricsDone)
			if err := metrics.Serve(bg, g.mln, metrics.Handler(g.reg, g.health)); err != nil {
				g.log.Error().Err(err).Msg("metrics listener")
			}
		}()
		// The metrics listener is closed before Run returns.
		defer func() { stopBG(); <-metricsDone }()
	}
	select {
	case <-g.state.ready:
	case <-ctx.Done():
	}
	if err := g.registerStatic(ctx, g.runtime().cfg); err != nil && ctx.Err() == nil {
		g.log.Error().Err(err).Msg("register static databases (retried at reload)")
	}
	go g.watch(bg)
	go g.sweepFloods(bg)
	g.log.Info().Str("listen", g.ln.Addr().String()).Msg("agent serving")
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		g.accept(bg)
	}()
	<-ctx.Done()
	g.drain()
	<-acceptDone
	// Every connection is done: what the rate limit still counts is
	// recorded now, before the publisher stops.
	g.recordSummaries(g.floods.Flush())
	stopCP()
	<-cpDone
	cctx, cancel := context.WithTimeout(context.Background(), g.opt.Grace)
	defer cancel()
	if err := g.ck.Checkpoint(cctx, g.auditp, schemas.CheckpointShutdown); err != nil {
		g.log.Warn().Err(err).Msg("audit checkpoint at shutdown")
	}
	if err := g.auditp.Close(cctx); err != nil {
		g.log.Warn().Err(err).Msg("audit events left unpublished at shutdown (kept in the spool for the next start)")
	}
	if g.spool != nil {
		if err := g.spool.Close(); err != nil {
			g.log.Warn().Err(err).Msg("close audit spool")
		}
	}
	return nil
}

// openAudit starts the audit publisher. With a data dir, every audit event
// (strict or async, session.started/rejected/ended included) is spooled on
// disk before it is published, so none is lost to an outage of the log or
// a restart of the agent. The hash chain resumes from the newer of the
// spool's last event and the agent's last event in the stream (see
// resumeChain); ck wraps the chain (checkpoints).
func openAudit(ctx context.Context, cfg config.File, stream eventlog.Stream, agentID string, aopt auditpub.Options,
	log zerolog.Logger, ck *auditpub.Checkpointer) (*auditpub.Publisher, *spool.Spool, error) {
	aopt.Logger = log
	dir := cfg.DBService.SpoolPath(cfg.Tollgate.DataDir)
	if dir == "" {
		seq, hash, err := chainStart(ctx, stream, agentID)
		if err != nil {
			return nil, nil, fmt.Errorf("find this agent's audit chain: %w", err)
		}
		return auditpub.New(stream, ck.Wrap(eventlog.NewChainer(seq, hash)), aopt), nil, nil
	}
	sync := spool.SyncInterval
	if cfg.DBService.SpoolSync == config.SpoolSyncAlways {
		sync = spool.SyncEveryAppend
	}
	// Segments are sized to the bound (spool.SegmentBytesFor).
	sp, err := spool.Open(dir, spool.Options{Sync: sync, MaxBytes: int64(cfg.DBService.SpoolMaxBytes)})
	if err != nil {
		return nil, nil, fmt.Errorf("open the audit spool: %w", err)
	}
	chain, err := resumeChain(ctx, sp, stream, agentID, log)
	if err != nil {
		sp.Close()
		return nil, nil, fmt.Errorf("find this agent's audit chain: %w", err)
	}
	aopt.Spool = sp
	return auditpub.New(stream, ck.Wrap(chain), aopt), sp, nil
}

// resumeChain continues the chain from the newer (higher sequence) of the
// spool's last event and the agent's last event in the stream. The spool is
// newer after an outage (events spooled, not stored yet); the stream is
// newer when the spool dir was changed and changed back to an older one,
// whose last event the chain has moved past: continuing from it would
// fork the chain.
func resumeChain(ctx context.Context, sp *spool.Spool, stream eventlog.Stream, agentID string, log zerolog.Logger) (*eventlog.Chainer, error) {
	chain, err := auditpub.ResumeChain(sp)
	if err != nil {
		return nil, err
	}
	spSeq, spHash := chain.Last()
	seq, hash, err := chainStart(ctx, stream, agentID)
	if err != nil {
		return nil, err
	}
	switch {
	case seq > spSeq:
		if spSeq > 0 {
			log.Warn().Uint64("spool_seq", spSeq).Uint64("stream_seq", seq).Str("spool", sp.Dir()).
				Msg("the audit spool is older than this agent's chain in the stream (was spool_dir changed?): continuing from the stream")
		}
		if n := sp.Pending(); n > 0 {
			log.Error().Uint64("events", n).Str("spool", sp.Dir()).
				Msg("the older audit spool holds events never stored: they are sent, and `tollctl audit verify` reports them out of chain order")
		}
		return eventlog.NewChainer(seq, hash), nil
	case seq == spSeq && seq > 0 && hash != spHash:
		log.Error().Uint64("seq", seq).Msg("the audit spool and the stream disagree on this agent's last event: the chain forked before this start")
	}
	return chain, nil
}

func (g *Gateway) accept(ctx context.Context) {
	backoff := 5 * time.Millisecond
	for {
		conn, err := g.ln.Accept()
		if err != nil {
			if g.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			g.log.Warn().Err(err).Msg("accept")
			time.Sleep(backoff)
			if backoff < time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 5 * time.Millisecond
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer func() {
				// One connection's bug must not take every other session
				// down with the process.
				if r := recover(); r != nil {
					g.log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Msg("connection handler panicked; connection closed")
					_ = conn.Close()
				}
			}()
			g.serve(ctx, conn)
		}()
	}
}

// drain stops accepting, ends each session once its in-flight queries are
// done (at most the grace period), and waits for the sessions' records.
func (g *Gateway) drain() {
	g.closing.Store(true)
	g.ln.Close()
	deadline := time.Now().Add(g.opt.Grace)
	for {
		g.mu.Lock()
		pending := 0
		for id, l := range g.live {
			if !g.pub.busy(id) || time.Now().After(deadline) {
				l.kill(schemas.EndShutdown, shutdownError())
			} else {
				pending++
			}
		}
		g.mu.Unlock()
		if pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.wg.Wait()
}

// Reload re-reads the config file (when Options.ConfigPath is set), the
// ca_cert_files and the agent's identity from its data dir, and registers
// the static databases again. Listener address changes need a restart.
func (g *Gateway) Reload(ctx context.Context) error {
	cfg := g.runtime().cfg
	switch {
	case g.opt.Reloader != nil:
		f, err := g.opt.Reloader(ctx)
		if err != nil {
			return fmt.Errorf("reload config: %w", err)
		}
		cfg = f
	case g.opt.ConfigPath != "":
		f, err := config.Load(g.opt.ConfigPath)
		if err != nil {
			return fmt.Errorf("reload config: %w", err)
		}
		if f.Tollgate.DataDir == "" {
			f.Tollgate.DataDir = cfg.Tollgate.DataDir
		}
		cfg = f
	}
	caFiles, err := loadCAFiles(cfg)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if id, err := join.Load(cfg.Tollgate.DataDir); err == nil && id.AgentID == g.id.AgentID {
		if err := g.identity.SetCert(id.CertPEM, id.KeyPEM); err == nil {
			g.creds.cert.Store(g.identity.Certificate())
		}
		if _, err := g.identity.SetHostCA(id.HostCAPEM); err != nil {
			g.log.Warn().Err(err).Msg("reload the host CA bundle")
		}
	}
	g.pokeIdentity()
	g.rc.Store(&runtimeConfig{cfg: cfg, caFiles: caFiles})
	if err := g.registerStatic(ctx, cfg); err != nil {
		return err
	}
	g.log.Info().Msg("agent config and certificates reloaded")
	return nil
}

// SetServerCertificate replaces the agent's TLS server cert.
func (g *Gateway) SetServerCertificate(c *tls.Certificate) { g.creds.cert.Store(c) }
