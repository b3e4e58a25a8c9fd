package nodetest

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
)

// Node is a running test node.
type Node struct {
	Env     *node.Env
	DataDir string
	Addr    string
	stop    func()
}

// Start runs a node in a temp dir until the test ends; logs go to logOut
// (nil discards them).
func Start(t testing.TB, logOut io.Writer) *Node {
	t.Helper()
	return StartConfig(t, logOut, nil)
}

// StartConfig is Start with the config changed by mod (when not nil)
// before the node runs, e.g. to add an export section.
func StartConfig(t testing.TB, logOut io.Writer, mod func(*config.Config)) *Node {
	t.Helper()
	return StartIn(t, t.TempDir(), logOut, mod)
}

// StartIn is StartConfig on the data dir dir, which may hold a node's
// data from before (a restart).
func StartIn(t testing.TB, dir string, logOut io.Writer, mod func(*config.Config)) *Node {
	t.Helper()
	if logOut == nil {
		logOut = io.Discard
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.ClusterName = "test-cluster"
	cfg.Control.ListenAddr = "127.0.0.1:0"
	// Free ports only in tests.
	cfg.Control.MetricsAddr, cfg.NATS.ListenAddr = "127.0.0.1:0", "127.0.0.1:0"
	if mod != nil {
		mod(&cfg)
	}
	log := zerolog.New(logOut).With().Timestamp().Logger()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node.Env, 1)
	done := make(chan error, 1)
	go func() {
		done <- node.Run(ctx, cfg, log, node.Options{Ready: func(env *node.Env) { ready <- env }})
	}()
	var env *node.Env
	select {
	case env = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("node did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("node did not start within 60s")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node stopped with error: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &Node{Env: env, DataDir: dir, Addr: env.ControlAddr, stop: stop}
}

// Stop shuts the node down (as at the end of the test) and waits for it:
// its data dir can then be read or changed, and started again with
// StartIn.
func (n *Node) Stop() { n.stop() }
