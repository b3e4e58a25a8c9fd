package relay

// The pending writes of in-flight messages, per name: what a reader of a
// name waits for (see tracker).

// blockedLocked reports whether a message of the current group reading
// name must wait: an earlier, unanswered group may write it.
func (t *tracker) blockedLocked(n ns, name string) bool {
	if name == "" && t.qhead < len(t.qpend) && t.qpend[t.qhead] < t.group {
		return true
	}
	for _, k := range [2]pendKey{{ns: n, name: name}, {ns: n, all: true}} {
		if g := t.pend[k]; len(g) > 0 && g[0] < t.group {
			return true
		}
	}
	return false
}

// wait blocks until name has no unresolved writes from earlier groups.
// The caller must have flushed its output.
func (t *tracker) wait(n ns, name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.blockedLocked(n, name) {
		if t.closed {
			return errTrackerClosed
		}
		t.cond.Wait()
	}
	return nil
}

// waitError is returned by client when the message must wait; it names
// what to wait for.
type waitError struct {
	ns   ns
	name string
}

func (e *waitError) Error() string { return errWait.Error() }
func (e *waitError) Unwrap() error { return errWait }

// pendKey is a name an in-flight message may change; all means every
// name of the namespace.
type pendKey struct {
	ns   ns
	all  bool
	name string
}

// pendKeys is a small set of pendKeys, inline up to four (no allocation
// for the messages of the hot path).
type pendKeys struct {
	a    [4]pendKey
	n    int
	more []pendKey
}

func keys(ks ...pendKey) pendKeys {
	var p pendKeys
	for _, k := range ks {
		p.add(k)
	}
	return p
}

func (p *pendKeys) add(k pendKey) {
	if p.n < len(p.a) {
		p.a[p.n] = k
		p.n++
		return
	}
	p.more = append(p.more, k)
}

// all returns the keys (aliasing p's storage: use at once).
func (p *pendKeys) all() []pendKey {
	if len(p.more) == 0 {
		return p.a[:p.n]
	}
	return append(p.a[:p.n:p.n], p.more...)
}

// regsOf are the pending writes of effects.
func regsOf(effects []sqlEffect) pendKeys {
	var regs pendKeys
	for _, e := range effects {
		switch e.kind {
		case effPrepare, effDeallocate:
			regs.add(pendKey{ns: nsStmt, name: e.name})
		case effDeallocAll:
			regs.add(pendKey{ns: nsStmt, all: true})
		case effDeclare, effClose:
			regs.add(pendKey{ns: nsPortal, name: e.name})
		case effCloseAll:
			regs.add(pendKey{ns: nsPortal, all: true})
		case effDiscardAll, effUnknown:
			regs.add(pendKey{ns: nsStmt, all: true})
			regs.add(pendKey{ns: nsPortal, all: true})
		}
	}
	return regs
}

// resolveLocked drops an item's pending writes.
func (t *tracker) resolveLocked(it *item) {
	for _, k := range it.regs.all() {
		g := t.pend[k]
		if len(g) <= 1 {
			delete(t.pend, k)
			continue
		}
		// Items resolve in queue order, but a rollback resolves the newest.
		for i := range g {
			if g[i] == it.group {
				t.pend[k] = append(g[:i:i], g[i+1:]...)
				break
			}
		}
	}
	it.regs = pendKeys{}
	if it.qreg {
		it.qreg = false
		switch {
		case t.qhead < len(t.qpend) && t.qpend[t.qhead] == it.group:
			t.qhead++ // in order
		default: // a rollback resolves the newest
			for i := len(t.qpend) - 1; i >= t.qhead; i-- {
				if t.qpend[i] == it.group {
					t.qpend = append(t.qpend[:i], t.qpend[i+1:]...)
					break
				}
			}
		}
		if t.qhead == len(t.qpend) {
			t.qpend, t.qhead = t.qpend[:0], 0
		}
	}
}
