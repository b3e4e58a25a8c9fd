package pgwire

import "sync"

// Budget bounds the bytes that large frames hold at once across every
// Reader sharing it (the agent's global memory bound for what clients
// send): a Reader acquires a frame's size before it allocates the frame,
// and releases it when it is asked for the next one. A frame larger than
// the whole budget waits until it has the budget to itself.
type Budget struct {
	mu      sync.Mutex
	cond    sync.Cond
	total   int64
	used    int64
	waiting int // readers waiting for room
}

// NewBudget returns a Budget of total bytes (0: no bound, nil). A
// negative total panics, as a negative max does in NewClientReader.
func NewBudget(total int64) *Budget {
	if total < 0 {
		panic("pgwire: negative message budget")
	}
	if total == 0 {
		return nil
	}
	b := &Budget{total: total}
	b.cond.L = &b.mu
	return b
}

// acquire blocks until n bytes (at most the total) are free and takes
// them; it returns what it took.
func (b *Budget) acquire(n int64) int64 {
	n = min(n, b.total)
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+n > b.total {
		b.waiting++
		b.cond.Wait()
		b.waiting--
	}
	b.used += n
	return n
}

func (b *Budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// Waiting reports how many readers wait for room.
func (b *Budget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting
}

// InUse reports the bytes held now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
