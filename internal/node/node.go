package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/join"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/api"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/export/subscriber"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/datadir"
	"github.com/tollgate-db/tollgate/schemas"
)

// Env is what a component gets: the configuration, the open event log, the
// control service when it runs in this process (nil otherwise), and a
// logger.
type Env struct {
	Config  config.Config
	Log     *jetstream.Log
	Control *control.Service
	// ControlAddr is control's API address as clients reach it.
	ControlAddr string
	Logger      zerolog.Logger
	// Registry collects the agent's and export's metrics (served by
	// control's and the agent's metrics listeners).
	Registry *prometheus.Registry
	// Agent is the running gateway when the config has a db_service
	// section (nil otherwise).
	Agent *gateway.Gateway
	// MetricsAddr is control's metrics and health listener (nil when
	// there is none, or when the agent's listener serves that address).
	MetricsAddr net.Addr

	ctx    context.Context
	remote *join.Remote                       // a separate agent's connection to control
	nats   *natsListener                      // the NATS listener for remote agents (nil: none)
	export atomic.Pointer[subscriber.Manager] // the running export subscribers
}

// Component is one long-running part of the daemon. Run blocks until ctx
// ends (returning nil) or the component fails.
type Component interface {
	Name() string
	Run(ctx context.Context) error
}

// Factory builds a component from the environment; it returns nil, nil when
// its configuration section is absent. The agent and export register here.
type Factory func(env *Env) (Component, error)

// Options extend Run.
type Options struct {
	// Components are started after control, in order.
	Components []Factory
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
	jc := jetstream.Config{URL: cfg.NATS.URL, CredsFile: cfg.NATS.Creds, DataDir: cfg.DataDir,
		Replicas: cfg.NATS.Replicas, Logger: log}
	var remote *join.Remote
	if !cfg.ControlEnabled() && cfg.AgentEnabled {
		// A separate agent process: join control first; the join says
		// where NATS is.
		r, id, err := remoteJoin(ctx, &cfg, opts.Agent)
		if err != nil {
			return err
		}
		if jc, err = remoteLogConfig(cfg, id); err != nil {
			return err
		}
		jc.Logger, remote = log, r
	}
	nl := newNATSListener(cfg, &jc)
	lg, err := jetstream.Open(ctx, jc)
	if err != nil {
		if remote != nil {
			return remoteLogError(cfg, jc, err)
		}
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := lg.Close(cctx); err != nil {
			log.Warn().Err(err).Msg("close event log")
		}
	}()
	where := "embedded NATS JetStream in " + filepath.Join(cfg.DataDir, "jetstream")
	if jc.URL != "" {
		where = jc.URL
	}
	log.Info().Str("event_log", where).Msg("event log open")

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	env := &Env{Config: cfg, Log: lg, Logger: log, Registry: prometheus.NewRegistry(), ctx: runCtx, remote: remote, nats: nl}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(name string, err error) {
		mu.Lock()
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
		mu.Unlock()
		cancel()
	}
	var comps []Component
	if cfg.ControlEnabled() {
		c, err := newControl(runCtx, env, lg, log)
		if err != nil {
			return err
		}
		comps = append(comps, c)
	}
	builtin := []Factory{agentFactory(opts.Agent), exportFactory, metricsFactory(opts.Agent)}
	for _, f := range append(builtin, opts.Components...) {
		c, err := f(env)
		if err != nil {
			return err
		}
		if c != nil {
			comps = append(comps, c)
		}
	}
	for _, c := range comps {
		wg.Add(1)
		go func(c Component) {
			defer wg.Done()
			if err := c.Run(runCtx); err != nil && runCtx.Err() == nil {
				fail(c.Name(), err)
			}
		}(c)
	}
	if opts.Ready != nil {
		opts.Ready(env)
	}
	log.Info().Str("control", env.ControlAddr).Msg("tollgate started")
	<-runCtx.Done()
	log.Info().Msg("shutting down")
	wg.Wait()
	return errors.Join(errs...)
}

type controlComponent struct {
	svc  *control.Service
	api  *api.Server
	ln   net.Listener
	cert tls.Certificate
	log  zerolog.Logger
	env  *Env
}

func newControl(ctx context.Context, env *Env, lg *jetstream.Log, log zerolog.Logger) (*controlComponent, error) {
	cfg := env.Config
	val, err := schemas.NewValidator()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Control.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for the control API on %s: %w", cfg.Control.ListenAddr, err)
	}
	addr := clientAddr(ln.Addr().String())
	if cfg.Control.PublicAddr != "" {
		addr = cfg.Control.PublicAddr
	}
	var hosts []string
	for _, a := range []string{addr, cfg.Control.ListenAddr} {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			hosts = append(hosts, h)
		}
	}
	if hn, err := os.Hostname(); err == nil {
		hosts = append(hosts, hn)
	}
	// Listening on loopback (or every interface), control is reachable as
	// localhost too; on every interface, by this host's addresses.
	if h, _, err := net.SplitHostPort(cfg.Control.ListenAddr); err == nil && !slices.Contains(hosts, "localhost") {
		ip := net.ParseIP(h)
		if h == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
			hosts = append(hosts, "localhost")
		}
		if h == "" || (ip != nil && ip.IsUnspecified()) {
			hosts = append(hosts, interfaceIPs()...)
		}
	}
	natsURL := cfg.NATS.URL
	if natsURL == "" && lg.Server != nil {
		natsURL = lg.Server.ClientURL()
		if natsURL == "" {
			natsURL = control.NATSInProcess
		}
	}
	var natsFor func(string) string
	if env.nats != nil && lg.Server != nil {
		hosts = append(hosts, natsHosts(cfg)...)
		natsURL = natsAdvertise(cfg, lg.Server, addr)
		natsFor = natsAdvertiseFor(cfg, lg.Server)
	}
	clog := log.With().Str("component", "control").Logger()
	svc, err := control.New(control.Config{Control: lg.Control, Audit: lg.Audit, Validator: val, DataDir: cfg.DataDir,
		ClusterName: cfg.ClusterName, KeyAlg: cfg.KeyAlg, Hosts: hosts, NATSURL: natsURL, NATSURLFor: natsFor, Logger: clog,
		SealKeyFile: cfg.Control.SealKeyFile})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := svc.Start(ctx); err != nil {
		ln.Close()
		return nil, err
	}
	if _, err := svc.EnsureAdminIdentity(ctx, addr); err != nil {
		ln.Close()
		return nil, fmt.Errorf("write local admin identity: %w", err)
	}
	cert, err := svc.ServerCertificate(ctx)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("issue control's host cert: %w", err)
	}
	if env.nats != nil {
		env.nats.setControl(ctx, svc, cert)
		log.Info().Str("listen", lg.Server.NATS().Addr().String()).Str("advertise", natsURL).Msg("NATS listening for agents (TLS, host certs of joined agents)")
	}
	env.Control, env.ControlAddr = svc, addr
	srv := api.New(svc, clog)
	srv.SetCertificateSource(svc.CertificateSource(ctx, cert))
	srv.SetExportStatus(env.exportStatus)
	return &controlComponent{svc: svc, api: srv, ln: ln, cert: cert, log: clog, env: env}, nil
}

// clientAddr turns a listen address into one a local client can dial.
func clientAddr(listen string) string {
	h, p, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "127.0.0.1"
	}
	return net.JoinHostPort(h, p)
}

func (c *controlComponent) Name() string { return "control" }

// Run serves the API and signs the head of control's audit chain
// (checkpoints) until ctx ends, then once more at shutdown.
func (c *controlComponent) Run(ctx context.Context) error {
	c.log.Info().Str("listen", c.ln.Addr().String()).Str("public", c.env.ControlAddr).Msg("control API listening")
	cpCtx, stopCP := context.WithCancel(ctx)
	cpDone := make(chan struct{})
	go func() {
		defer close(cpDone)
		c.svc.RunCheckpoints(cpCtx)
	}()
	err := c.api.Serve(ctx, c.ln, c.cert)
	stopCP()
	<-cpDone
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cerr := c.svc.Checkpoint(cctx, schemas.CheckpointShutdown); cerr != nil {
		c.log.Warn().Err(cerr).Msg("audit checkpoint at shutdown")
	}
	return err
}

// interfaceIPs are this host's unicast addresses, but link-local ones: the
// names a control listening on every interface is dialled by.
func interfaceIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLinkLocalUnicast() || n.IP.IsMulticast() || n.IP.IsUnspecified() {
			continue
		}
		out = append(out, n.IP.String())
	}
	return out
}
