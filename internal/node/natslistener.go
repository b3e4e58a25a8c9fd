package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/config"
)

// natsListener lets agents on other hosts reach the embedded server
// (nats.listen_addr): TLS with control's host cert, a joined agent's host
// cert required, and embedded.AgentClient's rights. The server starts
// before control (control needs the streams), so until control is set
// every handshake is refused.
type natsListener struct {
	tls     atomic.Pointer[tls.Config]
	svc     atomic.Pointer[control.Service]
	control string // stream names
	audit   string
	// hubDomain and leaves are set with a leaf-node listener
	// (nats.leaf_listen_addr).
	hubDomain string
	leaves    *leafSources
}

// newNATSListener returns nil when cfg has no listener for agents
// (config.NATSListen).
func newNATSListener(cfg config.Config, jc *jetstream.Config) *natsListener {
	listen := cfg.NATSListen()
	if listen == "" {
		return nil
	}
	d := jc.WithDefaults()
	n := &natsListener{control: d.ControlName, audit: d.AuditName}
	jc.Embedded.Listen = listen
	jc.Embedded.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: n.configForClient}
	jc.Embedded.Authorize = n.authorize
	if cfg.NATS.LeafListenAddr != "" {
		n.hubDomain, n.leaves = cfg.NATSDomain(), newLeafSources(d.AuditName)
		jc.Embedded.LeafListen, jc.Embedded.Domain = cfg.NATS.LeafListenAddr, n.hubDomain
		jc.Embedded.AuthorizeLeaf = n.authorizeLeaf
	}
	return n
}

func (n *natsListener) configForClient(h *tls.ClientHelloInfo) (*tls.Config, error) {
	tc := n.tls.Load()
	if tc == nil {
		return nil, errors.New("control is not ready yet")
	}
	return tc.GetConfigForClient(h)
}

func (n *natsListener) authorize(leaf *x509.Certificate) (embedded.Client, error) {
	svc := n.svc.Load()
	if svc == nil {
		return embedded.Client{}, fmt.Errorf("%w: control is not ready yet", embedded.ErrRefused)
	}
	id, err := svc.AgentOfCert(leaf)
	if err != nil {
		return embedded.Client{}, fmt.Errorf("%w: %w", embedded.ErrRefused, err)
	}
	return embedded.AgentClient(id, n.control, n.audit, eventlog.AuditPrefix), nil
}

// authorizeLeaf lets a joined agent's leaf node in with
// embedded.LeafAgentClient's rights for its domain (jetstream.LeafDomain of
// its id), and has the hub's audit stream source it.
func (n *natsListener) authorizeLeaf(leaf *x509.Certificate) (embedded.Client, error) {
	svc := n.svc.Load()
	if svc == nil {
		return embedded.Client{}, fmt.Errorf("%w: control is not ready yet", embedded.ErrRefused)
	}
	id, err := svc.AgentOfCert(leaf)
	if err != nil {
		return embedded.Client{}, fmt.Errorf("%w: %w", embedded.ErrRefused, err)
	}
	domain := jetstream.LeafDomain(id)
	n.leaves.seen(domain)
	return embedded.LeafAgentClient(id, n.hubDomain, domain, n.control, n.audit), nil
}

// setControl starts serving: control's host cert and the host CA.
func (n *natsListener) setControl(ctx context.Context, svc *control.Service, cert tls.Certificate) {
	n.tls.Store(svc.NATSTLSConfig(ctx, cert))
	n.svc.Store(svc)
}

// natsHosts are the names agents may dial NATS by, for control's host
// cert: nats.advertise's host and nats.listen_addr's (unless a wildcard).
func natsHosts(cfg config.Config) []string {
	var hosts []string
	if u, err := url.Parse(cfg.NATS.Advertise); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	for _, l := range []string{cfg.NATSListen(), cfg.NATS.LeafListenAddr} {
		if h, _, err := net.SplitHostPort(l); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// natsAdvertise is the URL handed to joining agents: nats.advertise, else
// control's public host with the listener's port.
func natsAdvertise(cfg config.Config, srv *embedded.Server, controlAddr string) string {
	if cfg.NATS.Advertise != "" {
		return cfg.NATS.Advertise
	}
	host, _, err := net.SplitHostPort(controlAddr)
	addr, ok := srv.NATS().Addr().(*net.TCPAddr)
	if err != nil || !ok {
		return srv.ClientURL()
	}
	return "tls://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// natsAdvertiseFor is the URL for an agent that dialed control's API by
// host, when neither nats.advertise nor control.public_addr names the
// host agents use (nil otherwise): that host, which the agent verified
// control's cert by (the NATS listener serves the same cert), with the
// listener's port. So `tollgate start --listen 0.0.0.0:7080` serves agents
// that reach it by any name in its cert.
func natsAdvertiseFor(cfg config.Config, srv *embedded.Server) func(host string) string {
	if cfg.NATS.Advertise != "" || cfg.Control.PublicAddr != "" {
		return nil
	}
	addr, ok := srv.NATS().Addr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	port := strconv.Itoa(addr.Port)
	return func(host string) string { return "tls://" + net.JoinHostPort(host, port) }
}
