package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func frame(typ byte, n int) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(n+4))
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

// A frame larger than the reader's buffer holds the budget until the next
// frame is asked for (or Release); a second reader waits for the room.
func TestBudgetBoundsLargeFrames(t *testing.T) {
	b := NewBudget(100 << 10)
	in := append(frame('Q', 80<<10), frame('Q', 10)...)
	r1 := NewClientReader(bufio.NewReaderSize(bytes.NewReader(in), 4096), 0)
	r1.SetBudget(b)
	_, body, err := r1.Next()
	require.NoError(t, err)
	require.Len(t, body, 80<<10)
	require.Equal(t, int64(80<<10+5), b.InUse(), "the large frame holds its size")

	r2 := NewClientReader(bufio.NewReaderSize(bytes.NewReader(frame('Q', 60<<10)), 4096), 0)
	r2.SetBudget(b)
	got := make(chan int, 1)
	go func() {
		_, body, _ := r2.Next()
		got <- len(body)
	}()
	require.Eventually(t, func() bool { return b.Waiting() == 1 }, 10*time.Second, time.Millisecond, "the second reader waits for room")
	select {
	case <-got:
		t.Fatal("the second large frame was read past the budget")
	default:
	}
	_, body, err = r1.Next() // releases the first frame; this one is small
	require.NoError(t, err)
	require.Len(t, body, 10)
	require.Equal(t, 60<<10, <-got, "the waiting reader goes on once there is room")
	require.Equal(t, int64(60<<10+5), b.InUse())
	r2.Release()
	require.Zero(t, b.InUse())
	require.Nil(t, NewBudget(0), "no bound")
}

// TestNegativeBoundsPanic: a negative frame limit or budget is a
// programming error, not a silent default; zero is the default.
func TestNegativeBoundsPanic(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"client reader": func() { NewClientReader(nil, -1) },
		"server reader": func() { NewServerReader(nil, -1) },
		"budget":        func() { NewBudget(-1) },
	} {
		require.Panics(t, f, name)
	}
	require.Equal(t, DefaultMaxMessage, NewServerReader(nil, 0).max)
}
