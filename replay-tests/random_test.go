package replaytests

import (
	"flag"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

var seedFlag = flag.Int64("seed", 0, "seed of TestRandomSnapshotTail (0: a new one, printed)")

// TestRandomSnapshotTail generates valid event sequences and checks that a
// snapshot at a random point plus the tail equals the full replay, byte
// for byte, and that no generated event fails to apply. Reproduce a
// failure with -seed=<the printed seed>.
func TestRandomSnapshotTail(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (reproduce with: go test ./replay-tests -run TestRandomSnapshotTail -seed=%d)", seed, seed)
	r := rand.New(rand.NewSource(seed))
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	for round := 0; round < 5; round++ {
		evs := newGenerator(r.Int63()).events(200 + r.Intn(800))
		recs := make([]eventlog.Record, len(evs))
		full := projections.New()
		for i := range evs {
			require.NoError(t, v.Validate(&evs[i]), "seed %d round %d event %d", seed, round, i+1)
			recs[i] = eventlog.Record{StreamSeq: uint64(i + 1), Event: evs[i]}
			require.NoError(t, full.Apply(recs[i]), "seed %d round %d event %d", seed, round, i+1)
		}
		want := canonical(t, full)
		for k := 0; k < 3; k++ {
			cut := r.Intn(len(recs) + 1)
			head := projections.New()
			for _, rec := range recs[:cut] {
				require.NoError(t, head.Apply(rec))
			}
			snap, err := projections.Snapshot(head)
			require.NoError(t, err)
			s, err := projections.Restore(snap)
			require.NoError(t, err)
			for _, rec := range recs[cut:] {
				require.NoError(t, s.Apply(rec))
			}
			require.Equal(t, string(want), string(canonical(t, s)), "seed %d round %d cut %d", seed, round, cut)
		}
	}
}
