package embedded

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// LeafRemote is the hub a leaf node connects to.
type LeafRemote struct {
	// URLs of the hub's leaf-node listener ("tls://host:port"); several
	// are tried in turn.
	URLs []string
	// TLSConfig verifies the hub and presents this node's certificate. It
	// is consulted at every (re)connect, so GetClientCertificate and
	// VerifyConnection callbacks may re-read renewed files.
	TLSConfig *tls.Config
	// DenyExports are subjects this node never sends to the hub, and
	// DenyImports subjects it never takes from it (NATS wildcards).
	DenyExports []string
	DenyImports []string
	// Reconnect is the wait between connection attempts (default 1s).
	Reconnect time.Duration
}

// configureLeaf sets the leaf-node listener and remote of opts from cfg;
// tc is the listener's TLS config (nil: none).
func configureLeaf(opts *server.Options, cfg Config, tc *tls.Config) error {
	if cfg.LeafListen != "" {
		if tc == nil || cfg.AuthorizeLeaf == nil {
			return errors.New("a leaf-node listener needs TLS with client certs and AuthorizeLeaf")
		}
		if cfg.Domain == "" {
			return errors.New("a leaf-node listener needs a JetStream Domain (leaf agents reach this JetStream by it)")
		}
		host, port, err := hostPort(cfg.LeafListen)
		if err != nil {
			return fmt.Errorf("leaf listen address %q: %w", cfg.LeafListen, err)
		}
		opts.LeafNode.Host, opts.LeafNode.Port = host, port
		opts.LeafNode.TLSConfig, opts.LeafNode.TLSTimeout = tc, 5
	}
	if r := cfg.Leaf; r != nil {
		if cfg.Domain == "" {
			return errors.New("a leaf node needs a JetStream Domain of its own")
		}
		if len(r.URLs) == 0 || r.TLSConfig == nil {
			return errors.New("a leaf node needs the hub's URLs and a TLS config")
		}
		ro := &server.RemoteLeafOpts{TLS: true, TLSConfig: r.TLSConfig, TLSTimeout: 5,
			DenyExports: r.DenyExports, DenyImports: r.DenyImports}
		for _, s := range r.URLs {
			u, err := url.Parse(strings.TrimSpace(s))
			if err != nil || u.Host == "" {
				return fmt.Errorf("leaf hub URL %q is not a URL like tls://host:7422", s)
			}
			ro.URLs = append(ro.URLs, u)
		}
		opts.LeafNode.Remotes = []*server.RemoteLeafOpts{ro}
		opts.LeafNode.ReconnectInterval = r.Reconnect
		if opts.LeafNode.ReconnectInterval <= 0 {
			opts.LeafNode.ReconnectInterval = time.Second
		}
	}
	return nil
}

func hostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a port number", portStr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// LeafURL returns the URL leaf nodes connect to, "" without a leaf-node
// listener.
func (s *Server) LeafURL() string { return s.leafURL }

// LeafConnected reports whether this server has a leaf-node connection
// (to its hub, or from a leaf).
func (s *Server) LeafConnected() bool { return s.ns.NumLeafNodes() > 0 }
