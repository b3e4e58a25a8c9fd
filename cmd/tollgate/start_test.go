package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/gomaxprocs"
	"github.com/tollgate-db/tollgate/internal/profile"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startOnce runs `tollgate start` in-process until the API answers with
// the local admin identity and control's /healthz answers on the metrics
// address, then cancels it and requires a clean exit.
func startOnce(t *testing.T, dir string) string {
	t.Helper()
	return startOnceWith(t, dir, "--nats-listen", "127.0.0.1:0")
}

// startOnceWith is startOnce with more flags.
func startOnceWith(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	metricsAddr := freeAddr(t)
	args := append([]string{"start", "--data-dir", dir, "--listen", "127.0.0.1:0", "--cluster-name", "start-test",
		"--metrics-addr", metricsAddr}, flags...)
	go func() {
		done <- run(ctx, args, strings.NewReader(""), &stdout, stderr)
	}()
	var cluster string
	require.Eventually(t, func() bool {
		select {
		case code := <-done:
			t.Fatalf("tollgate start exited early with %d: %s", code, stderr.String())
		default:
		}
		p, err := profile.Load(control.AdminDir(dir))
		if err != nil {
			return false
		}
		c, err := client.FromProfile(p, "")
		if err != nil {
			return false
		}
		defer c.Close()
		st, err := c.Status(ctx)
		if err != nil {
			return false
		}
		cluster = st.Cluster
		return true
	}, 60*time.Second, 50*time.Millisecond)
	// Control alone (no agent) serves metrics and health too.
	resp, err := http.Get("http://" + metricsAddr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("tollgate start did not stop within 60s of cancel")
	}
	require.Contains(t, stderr.String(), "shutting down")
	return cluster
}

func controlLastSeq(t *testing.T, dir string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lg, err := jetstream.Open(ctx, jetstream.Config{DataDir: dir, Logger: zerolog.Nop()})
	require.NoError(t, err)
	defer func() { require.NoError(t, lg.Close(ctx)) }()
	seq, err := lg.Control.LastSeq(ctx)
	require.NoError(t, err)
	return seq
}

// TestStartInProcess runs `tollgate start` twice on one data dir: the first
// creates the cluster, the second appends nothing to the control stream,
// and both exit cleanly when their context ends.
func TestStartInProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.Equal(t, "start-test", startOnce(t, dir))
	first := controlLastSeq(t, dir)
	require.NotZero(t, first)
	require.Equal(t, "start-test", startOnce(t, dir))
	require.Equal(t, first, controlLastSeq(t, dir), "a second start appends nothing to the control stream")
}

// TestStartGovernsGOMAXPROCS: a quiet `tollgate start` goes to one P and
// says so; stopped, the process is back on the runtime's default. When
// the environment sets GOMAXPROCS, the daemon leaves it alone.
func TestStartGovernsGOMAXPROCS(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if !gomaxprocs.Enabled(os.LookupEnv) {
		_, set := os.LookupEnv("GOMAXPROCS")
		require.True(t, set || def == 1, "the governor is off only when GOMAXPROCS is set or there is one CPU")
		return
	}
	d := startDaemon(t, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--nats-listen", "none",
		"--metrics-addr", "none", "--cluster-name", "governor-test")
	require.Eventually(t, func() bool {
		return strings.Contains(d.stderr.String(), "GOMAXPROCS quiet: one P")
	}, time.Minute, 50*time.Millisecond, "no governor line in the daemon's log")
	require.Equal(t, 1, runtime.GOMAXPROCS(0))
	d.stop(t)
	require.Equal(t, def, runtime.GOMAXPROCS(0))
}
