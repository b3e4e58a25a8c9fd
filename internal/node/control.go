package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/api"
	"github.com/tollgate-db/tollgate/control/lease"
	"github.com/tollgate-db/tollgate/control/tunnel"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/schemas"
)

// controlComponent is control in this process: the service, its HTTPS API
// and the checkpoints of its audit chain.
type controlComponent struct {
	svc  *control.Service
	api  *api.Server
	ln   net.Listener
	cert tls.Certificate
	log  zerolog.Logger
	// addr is control's API address as clients reach it.
	addr string
	// leases, when set, is what the checkpoints run under.
	leases *lease.Leases
}

// newControl starts control over lg and binds its API listener; nl, when
// set, starts serving agents once control is up; exportStatus answers
// `tollctl export status`.
func newControl(ctx context.Context, cfg config.Config, lg *jetstream.Log, nl *natsListener,
	exportStatus func(context.Context) wire.ExportStatus, log zerolog.Logger) (*controlComponent, error) {
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
	hosts := controlHosts(cfg, addr)
	natsURL := cfg.NATS.URL
	if natsURL == "" && lg.Server != nil {
		natsURL = lg.Server.ClientURL()
		if natsURL == "" {
			natsURL = control.NATSInProcess
		}
	}
	var natsFor func(string) string
	if nl != nil && lg.Server != nil {
		hosts = append(hosts, natsHosts(cfg)...)
		natsURL = natsAdvertise(cfg, lg.Server, addr)
		natsFor = natsAdvertiseFor(cfg, lg.Server)
	}
	clog := log.With().Str("component", "control").Logger()
	keys, err := openKeys(ctx, cfg, lg.JS, clog)
	if err != nil {
		ln.Close()
		return nil, err
	}
	svc, err := control.New(control.Config{Control: lg.Control, Audit: lg.Audit, Validator: val, DataDir: cfg.DataDir,
		ClusterName: cfg.ClusterName, KeyAlg: cfg.KeyAlg, Hosts: hosts, NATSURL: natsURL, NATSURLFor: natsFor, Logger: clog,
		SealKeyFile: cfg.Control.SealKeyFile, Keys: keys})
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
	if nl != nil {
		nl.setControl(ctx, svc, cert)
		log.Info().Str("listen", lg.Server.NATS().Addr().String()).Str("advertise", natsURL).Msg("NATS listening for agents (TLS, host certs of joined agents)")
	}
	srv := api.New(svc, clog)
	srv.SetCertificateSource(svc.CertificateSource(ctx, cert))
	srv.SetExportStatus(exportStatus)
	srv.SetTunnelHub(tunnel.New(svc, clog))
	return &controlComponent{svc: svc, api: srv, ln: ln, cert: cert, log: clog, addr: addr}, nil
}

// controlHosts are the names in control's host cert: those of its public
// address addr and of its listen address (but wildcards), the hostname,
// and — listening on loopback or every interface — localhost; on every
// interface, this host's addresses too.
func controlHosts(cfg config.Config, addr string) []string {
	var hosts []string
	for _, a := range []string{addr, cfg.Control.ListenAddr} {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			hosts = append(hosts, h)
		}
	}
	if hn, err := os.Hostname(); err == nil {
		hosts = append(hosts, hn)
	}
	if h, _, err := net.SplitHostPort(cfg.Control.ListenAddr); err == nil && !slices.Contains(hosts, "localhost") {
		ip := net.ParseIP(h)
		if h == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
			hosts = append(hosts, "localhost")
		}
		if h == "" || (ip != nil && ip.IsUnspecified()) {
			hosts = append(hosts, interfaceIPs()...)
		}
	}
	return hosts
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

// Run serves the API, expires access requests whose time is up, and
// signs the head of control's audit chain (checkpoints) until ctx ends, then once more at shutdown, once the API
// has stopped. With leases (several controls on the cluster) the
// checkpoints run only while this process holds their lease, and the one
// at shutdown only if it still does.
func (c *controlComponent) Run(ctx context.Context) error {
	c.log.Info().Str("listen", c.ln.Addr().String()).Str("public", c.addr).Msg("control API listening")
	cpCtx, stopCP := context.WithCancel(ctx)
	apiDone, cpDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(cpDone)
		_ = underLease(cpCtx, c.leases, leaseCheckpoints, func(lctx context.Context) error {
			c.svc.RunCheckpoints(lctx)
			if cpCtx.Err() != nil { // stopping, not a lost lease
				<-apiDone
				c.shutdownCheckpoint(ctx)
			}
			return nil
		})
	}()
	go c.svc.Requests().RunRequestExpiry(ctx)
	err := c.api.Serve(ctx, c.ln, c.cert)
	close(apiDone)
	stopCP()
	<-cpDone
	return err
}

func (c *controlComponent) shutdownCheckpoint(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cerr := c.svc.Checkpoint(cctx, schemas.CheckpointShutdown); cerr != nil {
		c.log.Warn().Err(cerr).Msg("audit checkpoint at shutdown")
	}
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
