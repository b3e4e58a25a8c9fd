package auditpub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

// flaky is a stream that is down while down is set (the publisher
// appends with AppendEncoded).
type flaky struct {
	eventlog.Stream
	mu   sync.Mutex
	down bool
}

func (f *flaky) AppendEncoded(ctx context.Context, evs []eventlog.Event, raw [][]byte) error {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return eventlog.ErrUnavailable
	}
	return f.Stream.AppendEncoded(ctx, evs, raw)
}

func ev(i int) eventlog.Event {
	return eventlog.Event{ID: fmt.Sprintf("id-%06d", i), Type: "query", V: 1, Source: "a", Subject: "tollgate.audit.d.u.s.query", Data: []byte(`{}`)}
}

func TestGroupCommitChainsInOrder(t *testing.T) {
	t.Parallel()
	st := &flaky{Stream: memlog.New(eventlog.AuditStream)}
	p := New(st, eventlog.NewChainer(0, ""), Options{})
	var wg sync.WaitGroup
	for s := 0; s < 8; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				require.NoError(t, p.PublishSync(context.Background(), []eventlog.Event{ev(s*1000 + i)}))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, p.TryPublishAsync([]eventlog.Event{ev(99999)}))
	require.NoError(t, p.Close(context.Background()))
	var seqs []uint64
	require.NoError(t, st.Read(context.Background(), eventlog.Query{}, func(r eventlog.Record) error {
		seqs = append(seqs, r.Event.Seq)
		return nil
	}))
	require.Len(t, seqs, 401)
	for i, s := range seqs {
		require.Equal(t, uint64(i+1), s, "chain order is append order")
	}
}

func TestFailedBatchIsRetriedNotLost(t *testing.T) {
	t.Parallel()
	st := &flaky{Stream: memlog.New(eventlog.AuditStream), down: true}
	p := New(st, eventlog.NewChainer(0, ""), Options{})
	err := p.PublishSync(context.Background(), []eventlog.Event{ev(1)})
	require.True(t, errors.Is(err, eventlog.ErrUnavailable), err)
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	require.NoError(t, p.PublishSync(context.Background(), []eventlog.Event{ev(2)}))
	require.NoError(t, p.Close(context.Background()))
	n, err := st.LastSeq(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(2), n)
}
