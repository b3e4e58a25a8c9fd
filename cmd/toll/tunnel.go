package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
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

// errTunnelEnv: libpq cannot reach a tunneled database by itself.
func errTunnelEnv(name string) error {
	return fmt.Errorf("%s is served through its agent's tunnel, which libpq cannot reach by itself: "+
		"run `toll proxy db %s` and use the connection string it prints, or `toll db connect %s`", name, name, name)
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
