package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestHandlerServesMetricsAndHealth(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	require.NoError(t, err)
	m.Rejections.WithLabelValues("locked").Inc()
	m.ActiveSessions.Set(3)
	var unhealthy atomic.Pointer[error]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, Handler(reg, func() error {
			if e := unhealthy.Load(); e != nil {
				return *e
			}
			return nil
		}))
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	require.Equal(t, 200, code)
	require.True(t, strings.Contains(body, `tollgate_agent_rejections_total{reason="locked"} 1`), body)
	require.Contains(t, body, "tollgate_agent_active_sessions 3")
	code, _ = get("/healthz")
	require.Equal(t, 200, code)
	e := errors.New("no control state yet")
	unhealthy.Store(&e)
	code, body = get("/healthz")
	require.Equal(t, 503, code)
	require.Contains(t, body, "no control state yet")
	cancel()
	require.NoError(t, <-done)
}
