package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/agent/cancel"
	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/agent/metrics"
	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/policy/sqlfacts"
	"github.com/tollgate-db/tollgate/projections/follow"
	"github.com/tollgate-db/tollgate/schemas"
)

// AuditLog is what the agent needs of the audit stream: to append the
// events it chained, and to read back where its chain ended.
type AuditLog interface {
	eventlog.EncodedAppender
	eventlog.Reader
}

// Deps are the gateway's connections to the cluster.
type Deps struct {
	// Control is how the agent reaches control (inprocess.Control or join.Remote).
	Control join.ControlPlane
	// ControlStream is followed into the agent's projection; AuditStream
	// takes its audit events.
	ControlStream follow.Stream
	AuditStream   AuditLog
	// Registry receives the metrics (nil: a private registry).
	Registry *prometheus.Registry
	Logger   zerolog.Logger
	// Tunnel, when set, is the agent's reverse tunnel to control
	// (agent/tunnel): clients control relays arrive on it besides the
	// listener, and the databases are registered as served through it.
	Tunnel net.Listener
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

	// rc is what Reload replaces (withDefaults applied).
	rc      atomic.Pointer[Reloadable]
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
	floods *recordlimit.Limiter
	// facts caches what the SQL parser read in statement texts, for the
	// sessions' statement rules (policy.go).
	facts *sqlfacts.Cache

	ln      net.Listener
	mln     net.Listener
	pokeCh  chan struct{}
	mu      sync.Mutex
	live    map[string]*live
	wg      sync.WaitGroup
	closing atomic.Bool
}

// New joins the cluster if needed (first start, with Options.JoinToken),
// starts following the control stream and binds the listeners. Call Run.
func New(ctx context.Context, deps Deps, opt Options) (*Gateway, error) {
	if deps.Control == nil || deps.ControlStream == nil || deps.AuditStream == nil {
		return nil, errors.New("gateway: Control, ControlStream and AuditStream are required")
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	g := &Gateway{deps: deps, opt: opt, log: deps.Logger.With().Str("component", "agent").Logger(),
		pokeCh: make(chan struct{}, 1), identityCh: make(chan struct{}, 1), live: map[string]*live{},
		budget: pgwire.NewBudget(opt.MessageBudget), facts: sqlfacts.NewCache(factsEntries, factsBytes)}
	r := opt.Reloadable
	g.rc.Store(&r)
	if err := g.startIdentity(ctx); err != nil {
		return nil, err
	}
	if err := g.startAudit(ctx); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			g.closeAudit()
		}
	}()
	g.state = newStateFollower(deps.ControlStream, g)
	g.creds = &credentials{state: g.state}
	g.creds.cert.Store(g.identity.Certificate())
	g.certs = &clientCerts{g: g}
	if opt.DataDir != "" {
		g.certs.dir = filepath.Join(join.Dir(opt.DataDir), certDirName)
	}
	var err error
	if g.cancels, err = cancel.New(cancel.Options{}); err != nil {
		return nil, err
	}
	if g.floods, err = recordlimit.New(opt.Floods); err != nil {
		return nil, err
	}
	g.fd, err = frontdoor.New(frontdoor.Config{
		AgentID: g.id.AgentID, Credentials: g.creds, Identify: identify, Catalog: catalog{g}, Authorizer: authorizer{g},
		Cancel: cancelHandler{g}, HandshakeTimeout: opt.HandshakeTimeout, MaxConnections: opt.MaxConnections,
	})
	if err != nil {
		return nil, err
	}
	if err := g.listen(); err != nil {
		return nil, err
	}
	ok = true
	return g, nil
}

// startIdentity loads or makes the agent's identity (loadIdentity) and
// keeps it live: control over the network is then called with its current
// host cert.
func (g *Gateway) startIdentity(ctx context.Context) error {
	var err error
	if g.id, err = g.loadIdentity(ctx); err != nil {
		return err
	}
	if g.identity, err = join.NewLive(g.opt.DataDir, g.id); err != nil {
		return err
	}
	if r, ok := g.deps.Control.(*join.Remote); ok {
		r.SetLive(g.identity)
	}
	g.log = g.log.With().Str("agent", g.id.AgentID).Logger()
	return nil
}

// startAudit sets up what records: the metrics, the event builder, the
// checkpointer and the audit publisher (with its spool).
func (g *Gateway) startAudit(ctx context.Context) error {
	g.reg = g.deps.Registry
	if g.reg == nil {
		g.reg = prometheus.NewRegistry()
	}
	var err error
	if g.m, err = metrics.New(g.reg); err != nil {
		return err
	}
	g.builder = eventlog.NewBuilder(g.id.AgentID)
	if g.ck, err = auditpub.NewCheckpointer(auditpub.CheckpointOptions{Interval: g.opt.CheckpointInterval, Builder: g.builder,
		Cert: g.identity.Certificate, Logger: g.log}); err != nil {
		return err
	}
	if g.auditp, g.spool, err = openAudit(ctx, g.opt, g.deps.AuditStream, g.id.AgentID, g.log, g.ck); err != nil {
		return err
	}
	g.pub = newPublisher(g.auditp, g.m)
	return nil
}

// closeAudit stops the publisher and closes the spool of a gateway that
// did not start.
func (g *Gateway) closeAudit() {
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = g.auditp.Close(cctx)
	if g.spool != nil {
		g.spool.Close()
	}
}

// listen binds the PostgreSQL-wire listener and the metrics listener.
func (g *Gateway) listen() error {
	var err error
	switch {
	case g.opt.ListenAddr != NoListener:
		if g.ln, err = net.Listen("tcp", g.opt.ListenAddr); err != nil {
			return fmt.Errorf("agent listener: %w", err)
		}
	case g.deps.Tunnel == nil:
		return fmt.Errorf("%w: no listener and no tunnel: clients could not reach this agent", ErrInvalidOptions)
	}
	if g.opt.MetricsAddr == NoListener {
		return nil
	}
	if g.mln, err = net.Listen("tcp", g.opt.MetricsAddr); err != nil {
		if g.ln != nil {
			g.ln.Close()
		}
		return fmt.Errorf("agent metrics listener on %s (another tollgate on this host? give each process its own "+
			"db_service.metrics_addr or control.metrics_addr, or none): %w", g.opt.MetricsAddr, err)
	}
	return nil
}

func (g *Gateway) runtime() *Reloadable { return g.rc.Load() }

// publicAddr is the address clients dial, registered with each database:
// AdvertiseAddr with r's PublicAddr and the bound listener.
func (g *Gateway) publicAddr(r *Reloadable) string {
	if g.deps.Tunnel != nil {
		return wire.TunnelAddr
	}
	o := g.opt
	o.Reloadable = *r
	var bound net.Addr
	if g.ln != nil {
		bound = g.ln.Addr()
	}
	return o.AdvertiseAddr(bound)
}

// AgentID is the agent's id in the cluster.
func (g *Gateway) AgentID() string { return g.id.AgentID }

// Addr is the PostgreSQL-wire listener's address (the tunnel's when the
// agent has no listener).
func (g *Gateway) Addr() net.Addr { return g.listeners()[0].Addr() }

// MetricsAddr is the metrics listener's address (nil when disabled).
func (g *Gateway) MetricsAddr() net.Addr {
	if g.mln == nil {
		return nil
	}
	return g.mln.Addr()
}

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
	if err := g.registerStatic(ctx, g.runtime()); err != nil && ctx.Err() == nil {
		g.log.Error().Err(err).Msg("register static databases (retried at reload)")
	}
	go g.watch(bg)
	go g.sweepFloods(bg)
	g.log.Info().Str("listen", g.Addr().String()).Bool("tunnel", g.deps.Tunnel != nil).Msg("agent serving")
	var accepting sync.WaitGroup
	for _, ln := range g.listeners() {
		accepting.Add(1)
		go func() {
			defer accepting.Done()
			g.accept(bg, ln)
		}()
	}
	<-ctx.Done()
	g.drain()
	accepting.Wait()
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

// openAudit starts the audit publisher. With a spool dir (by default
// <data_dir>/spool), every audit event (strict or async,
// session.started/rejected/ended included) is spooled on disk before it is
// published, so none is lost to an outage of the log or a restart of the
// agent. The hash chain resumes from the newer of the spool's last event
// and the agent's last event in the stream (see resumeChain); ck wraps the
// chain (checkpoints).
func openAudit(ctx context.Context, o Options, stream AuditLog, agentID string, log zerolog.Logger,
	ck *auditpub.Checkpointer) (*auditpub.Publisher, *spool.Spool, error) {
	aopt := o.AuditOptions
	aopt.Logger = log
	dir := o.spoolDir()
	if dir == "" {
		seq, hash, err := chainStart(ctx, stream, agentID)
		if err != nil {
			return nil, nil, fmt.Errorf("find this agent's audit chain: %w", err)
		}
		return auditpub.New(stream, ck.Wrap(eventlog.NewChainer(seq, hash)), aopt), nil, nil
	}
	sync := spool.SyncInterval
	if o.SpoolSyncEveryAppend {
		sync = spool.SyncEveryAppend
	}
	// Segments are sized to the bound (spool.SegmentBytesFor).
	sp, err := spool.Open(dir, spool.Options{Sync: sync, MaxBytes: o.SpoolMaxBytes})
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
func resumeChain(ctx context.Context, sp *spool.Spool, stream eventlog.Reader, agentID string, log zerolog.Logger) (*eventlog.Chainer, error) {
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

// listeners are where clients arrive: the listener, and the tunnel (at
// least one of them: listen refuses neither).
func (g *Gateway) listeners() []net.Listener {
	var out []net.Listener
	if g.ln != nil {
		out = append(out, g.ln)
	}
	if g.deps.Tunnel != nil {
		out = append(out, g.deps.Tunnel)
	}
	return out
}

func (g *Gateway) accept(ctx context.Context, ln net.Listener) {
	backoff := 5 * time.Millisecond
	for {
		conn, err := ln.Accept()
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
	for _, ln := range g.listeners() {
		ln.Close()
	}
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

// Reload takes the new Reloadable from Options.Reloader (when set: the
// daemon re-reads its config file, ca_cert_files included), re-reads the
// agent's identity from its data dir, and registers the static databases
// again. Listener address changes need a restart.
func (g *Gateway) Reload(ctx context.Context) error {
	r := g.runtime()
	if g.opt.Reloader != nil {
		next, err := g.opt.Reloader(ctx)
		if err == nil {
			err = next.Validate()
		}
		if err != nil {
			return fmt.Errorf("reload config: %w", err)
		}
		next = next.withDefaults()
		r = &next
	}
	g.reloadIdentity()
	g.pokeIdentity()
	g.rc.Store(r)
	if err := g.registerStatic(ctx, r); err != nil {
		return err
	}
	g.log.Info().Msg("agent config and certificates reloaded")
	return nil
}

// reloadIdentity takes the host cert and host CA bundle stored in the
// data dir (renewed or replaced by hand), when they are this agent's.
func (g *Gateway) reloadIdentity() {
	id, err := join.Load(g.opt.DataDir)
	if err != nil || id.AgentID != g.id.AgentID {
		return
	}
	if err := g.identity.SetCert(id.CertPEM, id.KeyPEM); err == nil {
		g.creds.cert.Store(g.identity.Certificate())
	}
	if _, err := g.identity.SetHostCA(id.HostCAPEM); err != nil {
		g.log.Warn().Err(err).Msg("reload the host CA bundle")
	}
}

// SetServerCertificate replaces the agent's TLS server cert.
func (g *Gateway) SetServerCertificate(c *tls.Certificate) { g.creds.cert.Store(c) }
