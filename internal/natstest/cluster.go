package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long Start and Restart wait for a node to listen
// and for JetStream to have a meta leader.
const readyTimeout = 60 * time.Second

// Options say what to start.
type Options struct {
	// Nodes is the number of servers (default 1; 3 for an R3 cluster).
	Nodes int
	// TLS serves TLS on the client ports, with a server cert for
	// 127.0.0.1 and localhost, and requires a client cert from the same
	// CA (mTLS). The files are the Cluster's TLS.
	TLS bool
}

// Cluster is a set of running nats-server processes, clustered when there
// are several.
type Cluster struct {
	// TLS is the CA and a client cert when Options.TLS (zero otherwise).
	TLS   TLSFiles
	nodes []*node
}

// Start runs opt.Nodes servers in t's temp dir and waits until JetStream
// has a meta leader; t's cleanup stops them. It fails t when they do not
// come up.
func Start(t testing.TB, opt Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*readyTimeout)
	defer cancel()
	c, err := start(ctx, t.TempDir(), opt)
	if c != nil {
		t.Cleanup(c.stopAll)
	}
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return c
}

func start(ctx context.Context, dir string, opt Options) (*Cluster, error) {
	if opt.Nodes <= 0 {
		opt.Nodes = 1
	}
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	var srv serverTLS
	if opt.TLS {
		if c.TLS, srv, err = makeCerts(filepath.Join(dir, "certs")); err != nil {
			return nil, err
		}
	}
	if err := c.plan(bin, dir, opt.Nodes, srv); err != nil {
		return nil, err
	}
	for _, n := range c.nodes {
		if err := n.start(); err != nil {
			return c, err
		}
	}
	for _, n := range c.nodes {
		if err := n.waitListening(ctx); err != nil {
			return c, err
		}
	}
	return c, c.WaitJetStream(ctx)
}

// plan gives each node its name, ports, store dir and config file.
func (c *Cluster) plan(bin, dir string, count int, srv serverTLS) error {
	var routes []string
	for i := range count {
		client, err := freePort()
		if err != nil {
			return err
		}
		route, err := freePort()
		if err != nil {
			return err
		}
		c.nodes = append(c.nodes, &node{bin: bin, name: "n" + strconv.Itoa(i+1), dir: filepath.Join(dir, "n"+strconv.Itoa(i+1)),
			clientPort: client, routePort: route})
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", route))
	}
	for _, n := range c.nodes {
		if err := os.MkdirAll(filepath.Join(n.dir, "store"), 0o700); err != nil {
			return fmt.Errorf("natstest: %w", err)
		}
		if err := os.WriteFile(n.confPath(), []byte(n.config(routes, count > 1, srv)), 0o600); err != nil {
			return fmt.Errorf("natstest: %w", err)
		}
	}
	return nil
}

// URLs are the client URLs of every node (tls:// with Options.TLS).
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.url(c.TLS != TLSFiles{})
	}
	return out
}

// URL is every node's client URL, comma-separated, as nats.Connect (and
// nats.url) takes seed URLs.
func (c *Cluster) URL() string { return strings.Join(c.URLs(), ",") }

// Connect connects to the cluster (any node), with the client cert when
// Options.TLS.
func (c *Cluster) Connect(opts ...nats.Option) (*nats.Conn, error) {
	if c.TLS != (TLSFiles{}) {
		opts = append(opts, nats.RootCAs(c.TLS.CAFile), nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
	}
	return nats.Connect(c.URL(), opts...)
}

// WaitJetStream waits until JetStream answers account requests on every
// running node: the cluster has a meta leader.
func (c *Cluster) WaitJetStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		if err := c.waitNodeJetStream(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) waitNodeJetStream(ctx context.Context, n *node) error {
	var opts []nats.Option
	if c.TLS != (TLSFiles{}) {
		opts = append(opts, nats.RootCAs(c.TLS.CAFile), nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
	}
	var last error
	for {
		if last = accountInfo(ctx, n.url(c.TLS != TLSFiles{}), opts); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("natstest: JetStream on %s has no meta leader: %w\n%s", n.name, last, n.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func accountInfo(ctx context.Context, url string, opts []nats.Option) error {
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(rctx)
	return err
}

// Index is the index of the node named name (its server_name, as
// JetStream reports a stream's leader), or -1.
func (c *Cluster) Index(name string) int {
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}

// Stop stops node i (0-based), keeping its ports and store for Restart.
func (c *Cluster) Stop(i int) error { return c.nodes[i].stop() }

// Restart starts node i again (after Stop) and waits until JetStream
// answers on every running node.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	n := c.nodes[i]
	if err := n.start(); err != nil {
		return err
	}
	if err := n.waitListening(ctx); err != nil {
		return err
	}
	return c.WaitJetStream(ctx)
}

func (c *Cluster) stopAll() {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.stop())
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "natstest: stop:", err)
	}
}

// freePort returns a loopback port free at the time of the call.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("natstest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
