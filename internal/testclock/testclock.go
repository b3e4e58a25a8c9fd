// Package testclock is the one manual clock of the tests: its time moves
// only when the test says so (Add, Set), so a test can end windows,
// expire certs or stamp events without sleeping.
package testclock

import (
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

var _ eventlog.Clock = (*Clock)(nil)

// New returns a Clock at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
