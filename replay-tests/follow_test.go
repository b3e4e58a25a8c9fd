package replaytests

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/follow"
)

// TestFollowedLogs: the projection follower control and the agent run
// reaches, on every recorded log and backend, the state of the replay
// byte for byte (the golden file).
func TestFollowedLogs(t *testing.T) {
	for _, name := range logNames(t) {
		t.Run(name, func(t *testing.T) {
			evs, err := readLog(filepath.Join("testdata", name+".jsonl"))
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
			require.NoError(t, err)
			for _, b := range backends() {
				st := b.open(t)
				load(t, st, evs)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				f := follow.New(st, follow.Options{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					f.Run(ctx)
				}()
				require.NoError(t, f.Sync(ctx))
				var got []byte
				f.View(func(s *projections.State) {
					require.Equal(t, uint64(len(evs)), s.LastSeq)
					got = goldenForm(t, canonical(t, s))
				})
				cancel()
				<-done
				require.Equal(t, string(want), string(got), "%s: followed state differs from the golden file", b.name)
			}
		})
	}
}
