package eventlog

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Clock gives the time stamped on new events. Only callers that create
// events use it; projections read time from events.
type Clock interface {
	Now() time.Time
}

// IDSource gives new event ids: unique and sortable by time.
type IDSource interface {
	NewID(t time.Time) string
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// ULIDs makes ULIDs (48-bit millisecond time, 80 random bits, monotonic
// within a millisecond), which sort by time as strings.
type ULIDs struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
}

// NewULIDs returns an IDSource of ULIDs seeded from crypto/rand.
func NewULIDs() *ULIDs {
	return &ULIDs{entropy: ulid.Monotonic(rand.Reader, 0)}
}

// NewID returns a new ULID for time t.
func (u *ULIDs) NewID(t time.Time) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), u.entropy).String()
}

var (
	_ Clock    = SystemClock{}
	_ IDSource = (*ULIDs)(nil)
)
