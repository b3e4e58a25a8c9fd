package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/localproxy"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// tunneled reports whether the database is served through its agent's
// reverse tunnel (db_service.tunnel): reached through control's port.
func (l *dbLogin) tunneled() bool { return l.PublicAddr == wire.TunnelAddr }

// tunnelTLS is tc for an agent reached through a tunnel: control picks
// the agent, so its cert is verified as a host cert of the cluster (the
// host CA in tc.RootCAs) without a name.
func tunnelTLS(tc *tls.Config) *tls.Config {
	tc = tc.Clone()
	roots := tc.RootCAs
	tc.ServerName, tc.InsecureSkipVerify = "", true
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the agent presented no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
	return tc
}

// tunnelDial reaches l's database through control's public port (the
// profile's control addresses, tried in turn): TLS with the database cert
// of tc, ALPN wire.ALPNDatabase, then the database's name; what follows is
// the agent's, through its tunnel.
func tunnelDial(p *profile.Profile, l *dbLogin, tc *tls.Config) func(ctx context.Context) (net.Conn, error) {
	addrs := client.SplitProxies(p.Proxy)
	return func(ctx context.Context) (net.Conn, error) {
		var errs []error
		for _, addr := range addrs {
			host, _, _ := net.SplitHostPort(addr)
			d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: &tls.Config{
				Certificates: tc.Certificates, RootCAs: tc.RootCAs, ServerName: host,
				NextProtos: []string{wire.ALPNDatabase}, MinVersion: tls.VersionTLS13}}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", addr, err))
				continue
			}
			if c.(*tls.Conn).ConnectionState().NegotiatedProtocol != wire.ALPNDatabase {
				c.Close()
				errs = append(errs, fmt.Errorf("%s: control does not relay to agents' tunnels (an older version?)", addr))
				continue
			}
			if err := wire.WriteFrame(c, wire.DatabaseDial{Database: l.Name}); err != nil {
				c.Close()
				errs = append(errs, fmt.Errorf("%s: %w", addr, err))
				continue
			}
			return &dialedConn{Conn: c}, nil
		}
		return nil, fmt.Errorf("reach %s through control's tunnel: %w", l.Name, errors.Join(errs...))
	}
}

// localProxyConfig is how a local proxy reaches l's agent: directly (its
// public address, checked reachable) or through control's tunnel; via
// says which, for people.
func localProxyConfig(ctx context.Context, l *dbLogin) (localproxy.Config, string, error) {
	tc, err := l.tlsConfig()
	if err != nil {
		return localproxy.Config{}, "", err
	}
	h, pr := l.hostPort()
	cfg := localproxy.Config{Agent: net.JoinHostPort(h, pr), TLS: tc, Logger: zerolog.Nop()}
	if !l.tunneled() {
		if err := checkReachable(ctx, l); err != nil {
			return localproxy.Config{}, "", err
		}
		return cfg, "agent " + cfg.Agent, nil
	}
	hm, err := home()
	if err != nil {
		return localproxy.Config{}, "", err
	}
	p, err := profile.Load(hm)
	if err != nil {
		return localproxy.Config{}, "", err
	}
	cfg.Agent, cfg.TLS, cfg.Dial = l.Name, tunnelTLS(tc), tunnelDial(p, l, tc)
	return cfg, "through control's tunnel at " + p.Proxy, nil
}

// dialedConn reads control's DialResult before the agent's first byte:
// control answers once the client's first message is in (it looks at it
// for a CancelRequest), so the answer is read lazily, not at dial.
type dialedConn struct {
	net.Conn
	checked bool
	err     error
}

func (c *dialedConn) Read(p []byte) (int, error) {
	if !c.checked {
		c.checked = true
		var r wire.DialResult
		if err := wire.ReadFrame(c.Conn, &r); err != nil {
			c.err = fmt.Errorf("control's answer: %w", err)
		} else if r.Error != "" {
			c.err = errors.New("control: " + r.Error)
		}
	}
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(p)
}

// tunnelEnvHelp is what toll db env and config say of a tunneled database.
const tunnelEnvHelp = `A database served through its agent's tunnel is reached at control's public port: the
host names the database in its first label (libpq sends it as TLS SNI, which control routes
by), as NAME.CONTROL-HOST with a wildcard DNS record *.CONTROL-HOST, else with hostaddr set
to control's address; the agent's cert is verified as a host cert of the cluster
(sslmode=verify-ca), since control picks the agent. libpq 14 or later sends SNI.`

// publicRoute is how a libpq client reaches a tunneled database by itself:
// control's public port, the database named by the first label of the
// TLS SNI (libpq sends the host as SNI), one entry per control address.
type publicRoute struct {
	hosts, addrs, ports []string
}

// sniLabel is what a database name must be to go in an SNI label.
var sniLabel = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`)

// publicRouteOf is the route to database name through control at proxy
// (its comma-separated addresses). A control host that is an IP address
// gives host NAME.tollgate with hostaddr the IP; a name gives host
// NAME.HOST, with hostaddr the host's address when NAME.HOST does not
// resolve (no wildcard DNS record for control).
func publicRouteOf(name, proxy string, lookup func(string) ([]string, error)) (*publicRoute, error) {
	if !sniLabel.MatchString(name) {
		return nil, fmt.Errorf("%s is served through its agent's tunnel and its name is no DNS label (a-z, 0-9, _ and -), "+
			"so a libpq client cannot name it in TLS: run `toll proxy db %s` and use the connection string it prints, or `toll db connect %s`",
			name, name, name)
	}
	r := &publicRoute{}
	for _, a := range client.SplitProxies(proxy) {
		h, p, _ := net.SplitHostPort(a)
		host, addr := name+"."+h, ""
		if net.ParseIP(h) != nil {
			host, addr = name+".tollgate", h
		} else if _, err := lookup(host); err != nil {
			ips, err := lookup(h)
			if err != nil {
				return nil, fmt.Errorf("resolve control's host %s: %w", h, err)
			}
			addr = ips[0]
		}
		r.hosts, r.addrs, r.ports = append(r.hosts, host), append(r.addrs, addr), append(r.ports, p)
	}
	if len(r.hosts) == 0 {
		return nil, errors.New("this profile names no control address (toll login --proxy=HOST:PORT)")
	}
	return r, nil
}

// hostaddr is the hostaddr list, "" when no entry needs one.
func (r *publicRoute) hostaddr() string {
	if strings.Join(r.addrs, "") == "" {
		return ""
	}
	return strings.Join(r.addrs, ",")
}

// routePublic points l's connection strings at control's public port.
func routePublic(l *dbLogin) error {
	hm, err := home()
	if err != nil {
		return err
	}
	p, err := profile.Load(hm)
	if err != nil {
		return err
	}
	r, err := publicRouteOf(l.Name, p.Proxy, net.LookupHost)
	if err != nil {
		return err
	}
	l.public = r
	return nil
}
