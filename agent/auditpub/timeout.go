package auditpub

import (
	"context"
	"time"
)

// timeoutCtx bounds each append like context.WithTimeout, reusing one
// context and timer across appends until a timeout actually fires (a new
// context per batch costs a timer and two contexts).
type timeoutCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	fired  chan struct{}
	armed  bool
}

// arm returns a context that is cancelled d from now.
func (t *timeoutCtx) arm(base context.Context, d time.Duration) context.Context {
	t.armed = true
	if t.ctx == nil {
		t.ctx, t.cancel = context.WithCancel(base)
		t.fired = make(chan struct{}, 1)
		cancel, fired := t.cancel, t.fired
		t.timer = time.AfterFunc(d, func() {
			fired <- struct{}{}
			cancel()
		})
		return t.ctx
	}
	t.timer.Reset(d)
	return t.ctx
}

// disarm stops the timer and reports whether it fired (the context is
// then dropped and the next arm makes a new one).
func (t *timeoutCtx) disarm() bool {
	if !t.armed {
		return false
	}
	t.armed = false
	if t.timer.Stop() {
		return false
	}
	// The timer fired (or is firing): wait for its cancel, start afresh.
	<-t.fired
	t.cancel()
	t.ctx, t.cancel, t.timer, t.fired = nil, nil, nil, nil
	return true
}
