package gateway_test

import (
	"encoding/binary"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/schemas"
)

// plaintextCancel sends one CancelRequest without TLS (as psql does for
// Ctrl-C) and waits for the agent to close the connection.
func plaintextCancel(t *testing.T, addr string, pid uint32) {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	msg := binary.BigEndian.AppendUint32(nil, 16)
	msg = binary.BigEndian.AppendUint32(msg, 80877102)
	msg = binary.BigEndian.AppendUint32(msg, pid)
	msg = binary.BigEndian.AppendUint32(msg, 12345)
	_, err = c.Write(msg)
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(c)
	require.NoError(t, err)
}

// plaintextStartup sends a StartupMessage without TLS and returns what
// the agent answered before closing.
func plaintextStartup(t *testing.T, addr string, params ...string) string {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	body := binary.BigEndian.AppendUint32(nil, 196608)
	for _, p := range params {
		body = append(append(body, p...), 0)
	}
	body = append(body, 0)
	_, err = c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body)+4)), body...))
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(c)
	require.NoError(t, err)
	return string(b)
}

// flood runs n calls of f on 4 connections at a time.
func flood(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// waitFloodsHandled waits until the agent has handled (recorded or
// counted into a summary) every cancel and refusal sent: a client sees its
// connection closed before the agent is done with it, and the clock must
// not move on before.
func (h *harness) waitFloodsHandled(t *testing.T, cancels, rejections int) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, metrics := h.scrape(t, "/metrics")
		counted := 0
		for _, outcome := range []string{"no_match", "rate_limited"} {
			n, _ := strconv.Atoi(metricValue(metrics, `tollgate_agent_cancel_requests_total{outcome="`+outcome+`"}`))
			counted += n
		}
		rej, _ := strconv.Atoi(metricValue(metrics, `tollgate_agent_rejections_total{reason="plaintext"}`))
		return counted >= cancels && rej >= rejections
	}, 60*time.Second, 20*time.Millisecond)
}

// floodCounts reads the cancels and the plaintext rejections from the
// stream: events recorded in full, summaries, and the summaries' total.
type floodCount struct{ full, summaries, suppressed int }

func (c floodCount) accounted() int { return c.full + c.suppressed }

func (h *harness) floodCounts(t *testing.T) (cancels, rejections floodCount) {
	for _, ev := range h.events(schemas.TypeSessionCancel) {
		c := decode[schemas.SessionCancel](t, ev)
		require.True(t, strings.HasPrefix(c.ClientAddr, "127.0.0.1:"), c.ClientAddr)
		if c.Suppressed > 0 {
			cancels.summaries++
			cancels.suppressed += c.Suppressed
		} else {
			cancels.full++
		}
	}
	for _, ev := range h.events(schemas.TypeSessionRejected) {
		r := decode[schemas.SessionRejected](t, ev)
		require.Equal(t, schemas.RejectPlaintext, r.Code)
		require.Less(t, len(ev.Data), 2048, "a rejection's data stays small whatever the startup carried")
		if r.Suppressed > 0 {
			require.Empty(t, r.Params, "a summary carries no parameters")
			rejections.summaries++
			rejections.suppressed += r.Suppressed
		} else {
			require.True(t, r.Truncated)
			require.Len(t, r.Params["application_name"], frontdoor.MaxRecordedValue)
			require.Equal(t, "alice", r.Params["user"])
			rejections.full++
		}
	}
	return cancels, rejections
}

// TestUnauthenticatedFloodsAreBounded: a flood of plaintext CancelRequests
// with no cert and a flood of plaintext startups with a 9 KB
// application_name against a real agent: per source and window only the
// first Burst of each are recorded in full, the rest arrive as one summary
// per window whose suppressed count makes the total add up to what was
// sent; the recorded parameters are capped; the metrics count everything.
func TestUnauthenticatedFloodsAreBounded(t *testing.T) {
	const burst, window = 5, time.Minute
	clk := testclock.New(time.Now())
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) {
			o.Floods = recordlimit.Options{Window: window, Burst: burst, Now: clk.Now}
		}
	})
	addr := h.gw.Addr().String()
	appValue := strings.Repeat("A", 9*1024)
	startup := func(int) {
		out := plaintextStartup(t, addr, "user", "alice", "database", "postgres", "application_name", appValue)
		require.Contains(t, out, "requires TLS")
	}
	cancel := func(i int) { plaintextCancel(t, addr, uint32(i+1)) }

	// Window 1: the sweep records the summaries once the window is over.
	const cancels1, startups1 = 1000, 300
	flood(cancels1, cancel)
	flood(startups1, startup)
	h.waitFloodsHandled(t, cancels1, startups1)
	clk.Add(window)
	var c, r floodCount
	require.Eventually(t, func() bool {
		c, r = h.floodCounts(t)
		return c.accounted() == cancels1 && r.accounted() == startups1
	}, 60*time.Second, 100*time.Millisecond, "cancels %+v, rejections %+v", c, r)
	require.Equal(t, floodCount{full: burst, summaries: 1, suppressed: cancels1 - burst}, c)
	require.Equal(t, floodCount{full: burst, summaries: 1, suppressed: startups1 - burst}, r)

	_, metrics := h.scrape(t, "/metrics")
	require.Equal(t, strconv.Itoa(startups1), metricValue(metrics, `tollgate_agent_rejections_total{reason="plaintext"}`), "every refusal is counted")
	counted := 0
	for _, outcome := range []string{"no_match", "rate_limited"} {
		n, _ := strconv.Atoi(metricValue(metrics, `tollgate_agent_cancel_requests_total{outcome="`+outcome+`"}`))
		counted += n
	}
	require.Equal(t, cancels1, counted, "every cancel is counted")

	// Window 2: a fresh budget; what is still counted when the agent
	// stops is recorded before it does.
	const cancels2, startups2 = 200, 100
	flood(cancels2, cancel)
	flood(startups2, startup)
	h.waitFloodsHandled(t, cancels1+cancels2, startups1+startups2)
	h.stopAgent()
	c, r = h.floodCounts(t)
	require.Equal(t, floodCount{full: 2 * burst, summaries: 2, suppressed: cancels1 + cancels2 - 2*burst}, c)
	require.Equal(t, floodCount{full: 2 * burst, summaries: 2, suppressed: startups1 + startups2 - 2*burst}, r)
}
