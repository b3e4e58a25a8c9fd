package sinktest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
)

// Harness connects the suite to one sink implementation.
type Harness struct {
	// New returns a fresh sink writing to a fresh destination.
	New func(t *testing.T) export.Sink
	// Received returns the event ids the destination holds so far, in any
	// order, duplicates included (at-least-once sinks may repeat).
	Received func(t *testing.T) []string
	// Wait is how long to poll Received for delivery (default 10s):
	// destinations like syslog store asynchronously.
	Wait time.Duration
}

// Items returns n query items with ids prefix-000000…; doc is a JSON
// object holding the id (and pad bytes of padding).
func Items(prefix string, n, pad int) []export.Item {
	out := make([]export.Item, n)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		doc, _ := json.Marshal(map[string]string{"id": id, "pad": strings.Repeat("x", pad)})
		out[i] = export.Item{Stream: eventlog.AuditStream, StreamSeq: uint64(i + 1), Event: eventlog.Event{ID: id, Type: "query", V: 1,
			Time: base.Add(time.Duration(i) * time.Millisecond), Source: "agent-1", Actor: "alice",
			Subject: eventlog.AuditSubject("roach", "alice", "s1", "query")}, Doc: doc}
	}
	return out
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	if h.Wait == 0 {
		h.Wait = 10 * time.Second
	}
	ctx := context.Background()
	expect := func(t *testing.T, items []export.Item) {
		want := map[string]bool{}
		for _, it := range items {
			want[it.Event.ID] = true
		}
		var missing []string
		require.Eventually(t, func() bool {
			got := map[string]bool{}
			for _, id := range h.Received(t) {
				got[id] = true
			}
			missing = missing[:0]
			for id := range want {
				if !got[id] {
					missing = append(missing, id)
				}
			}
			return len(missing) == 0
		}, h.Wait, 20*time.Millisecond, "events not received: %v", missing)
	}
	t.Run("batches", func(t *testing.T) {
		s := h.New(t)
		items := Items("b", 250, 20)
		for i := 0; i < len(items); i += 100 {
			require.NoError(t, s.Write(ctx, items[i:min(i+100, len(items))]))
		}
		require.NoError(t, s.Close())
		expect(t, items)
	})
	t.Run("redelivery", func(t *testing.T) {
		s := h.New(t)
		items := Items("r", 20, 10)
		require.NoError(t, s.Write(ctx, items[:15]))
		require.NoError(t, s.Write(ctx, items[5:]))
		require.NoError(t, s.Close())
		expect(t, items)
	})
	t.Run("empty batch", func(t *testing.T) {
		s := h.New(t)
		require.NoError(t, s.Write(ctx, nil))
		require.NoError(t, s.Close())
	})
	t.Run("1 MiB document", func(t *testing.T) {
		s := h.New(t)
		items := Items("big", 2, 0)
		items[0] = Items("big", 1, 1<<20)[0]
		require.NoError(t, s.Write(ctx, items))
		require.NoError(t, s.Close())
		expect(t, items)
	})
}

// Validate checks sc, one sink of one of types, as export.Config.Validate
// checks export.sinks[0] (named "a" unless sc names it): a sink package's
// test of its settings' validation.
func Validate(types export.SinkTypes, sc export.SinkConfig) error {
	if sc.Name == "" {
		sc.Name = "a"
	}
	c := export.Config{Sinks: []export.SinkConfig{sc}}
	return c.Validate(types)
}

// RequireInvalid fails t unless err is an export.ErrInvalid naming field
// ("export.sinks[0].file.path: …").
func RequireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, export.ErrInvalid, field)
	require.ErrorContains(t, err, field+":")
}
