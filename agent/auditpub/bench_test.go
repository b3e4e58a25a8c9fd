package auditpub

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/eventlog"
)

// discard is a stream that stores everything at once and keeps nothing,
// so that a benchmark measures the publisher, not a log.
type discard struct{}

func (discard) AppendEncoded(context.Context, []eventlog.Event, [][]byte) error { return nil }

var _ eventlog.EncodedAppender = discard{}

// BenchmarkTryPublishAsync is the relay's hot path: one query event a
// call, chained, encoded and queued (memory) or spooled (spool, never
// synced so that the disk does not dominate). Its allocs/op are the
// publisher's per-event allocations.
func BenchmarkTryPublishAsync(b *testing.B) {
	for _, tc := range []struct {
		name  string
		spool bool
	}{{"memory", false}, {"spool", true}} {
		b.Run(tc.name, func(b *testing.B) {
			opt := Options{MaxQueue: 1 << 20}
			if tc.spool {
				sp, err := spool.Open(b.TempDir(), spool.Options{Sync: spool.SyncNever})
				require.NoError(b, err)
				b.Cleanup(func() { _ = sp.Close() })
				opt.Spool = sp
			}
			p := New(discard{}, eventlog.NewChainer(0, ""), opt)
			evs := make([]eventlog.Event, 1)
			tmpl := auditEv(1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				evs[0] = tmpl
				if err := p.TryPublishAsync(evs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			require.NoError(b, p.Close(context.Background()))
		})
	}
}

// BenchmarkPublishSync is strict mode's path: one event a call, waiting
// until the stream stored it.
func BenchmarkPublishSync(b *testing.B) {
	p := New(discard{}, eventlog.NewChainer(0, ""), Options{})
	evs := make([]eventlog.Event, 1)
	tmpl := auditEv(1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs[0] = tmpl
		if err := p.PublishSync(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.NoError(b, p.Close(context.Background()))
}
