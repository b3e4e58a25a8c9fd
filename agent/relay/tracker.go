package relay

import (
	"errors"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/schemas"
)

var (
	// errWait means the message reads a statement or portal that an earlier,
	// not yet answered sync group writes: flush and call wait first.
	errWait = errors.New("relay: wait for earlier sync groups")
	// errTrackerClosed means the session ended while waiting.
	errTrackerClosed = errors.New("relay: session ended")
)

// stmtEntry is a prepared statement as the server has it.
type stmtEntry struct {
	text string
	// sum, when set, is the SHA-256 of the full text: text was cut (see
	// keptText).
	sum string
	// eff: the text may create or drop names (mayHaveEffects, read once
	// at Parse, not at every Execute).
	eff bool
	// sqlN is the query number of the SQL PREPARE that made it (0: a Parse).
	sqlN uint64
}

// portalEntry is a portal (or SQL cursor) as the server has it.
type portalEntry struct {
	stmtName string
	text     string
	sum      string // as stmtEntry.sum
	eff      bool   // as stmtEntry.eff
	params   []schemas.QueryParam
	sqlN     uint64 // the PREPARE or DECLARE behind it
	hold     bool   // a WITH HOLD cursor outlives its transaction
}

type opKind uint8

const (
	opParse opKind = iota + 1
	opBind
	opClose
	opDescribe
	opExecute
	opQuery // simple Query: ends its group, answered by ReadyForQuery
	opSync
	opFunc    // FunctionCall: answered by ReadyForQuery
	opSynth   // a reply the agent writes itself, in order
	opRefused // the poison Bind sent for a refused message (see nameRefusal)
)

// ns is a namespace of names: prepared statements or portals.
type ns uint8

const (
	nsStmt ns = iota
	nsPortal
)

// item is one client message awaiting the server's answer.
type item struct {
	kind  opKind
	group uint64
	// The name a Parse, Bind or Close writes (server key), and what it
	// writes (nil for Close).
	ns     ns
	name   string
	stmt   *stmtEntry
	portal *portalEntry
	failed bool
	// regs are the pending writes this item holds (see tracker.pend);
	// qreg, a Query's write of the unnamed statement and portal (see
	// tracker.qpend).
	regs pendKeys
	qreg bool
	// inGroup marks a Query or FunctionCall sent inside an open extended
	// group (no Sync since its Parse/Bind/…): the server runs it and
	// answers ReadyForQuery, unless a message before it failed — then it
	// ignores it, like everything else up to Sync. It does not end the
	// group.
	inGroup bool
	// Queries (Execute, Query, FunctionCall): n is the query number. text
	// and effects are those of a Query, or of an Execute's statement when
	// it may change names; lexed: effects were read from the text; eff
	// counts the statements the server completed.
	n       uint64
	text    string
	sum     string // the SHA-256 of the full text when text was cut
	effects []sqlEffect
	lexed   bool
	eff     int
	start   time.Time
	res     schemas.QueryResult
	// Synthetic replies (opSynth, opRefused).
	synthErr *pgwire.Error
	synthRFQ bool
	genuine  bool // opRefused: the server's 26000 is the right answer
	// preErr, on an opSync the agent injected to close a group of a refused
	// batch, is written to the client before the server's ReadyForQuery.
	preErr *pgwire.Error
}

func (it *item) endsGroup() bool {
	return it.kind == opSync || it.kind == opQuery || it.kind == opFunc
}

// tracker follows prepared statements, portals and the in-flight queue of
// one session, so that every Execute is recorded with the text the server
// runs. Its state (stmts, portals) changes only on the server's answers
// (serverSteps): ParseComplete, BindComplete, CloseComplete, the command
// tags of SQL that creates or drops names, an ErrorResponse to an unnamed
// Parse or Bind (the old unnamed one is gone), and ReadyForQuery (a
// Query's drops the unnamed statement and portal, the end of a
// transaction its portals). A message that reads a name takes it from
// the latest write of its own sync group (if that write fails, the server
// skips to Sync and the reader never runs), else from the state, after
// waiting for earlier groups that may change it. A name the agent cannot
// resolve to a text is refused, never forwarded.
//
// The client goroutine calls client*, the server goroutine server*; a
// mutex guards the shared state.
type tracker struct {
	mu      sync.Mutex
	cond    sync.Cond
	closed  bool
	session string

	stmts   map[string]*stmtEntry
	portals map[string]*portalEntry
	// pend counts, per name, the groups of in-flight messages that may
	// write it, oldest first.
	pend map[pendKey][]uint64
	// qpend holds the groups of in-flight simple Queries, oldest first from
	// qhead: each destroys the unnamed statement and portal.
	qpend []uint64
	qhead int

	fifo []item
	head int
	// pushed counts the items ever pushed (see trackerMark).
	pushed uint64
	group  uint64
	// groupOpen: messages of the current group were sent since the last
	// Sync (a Query now is inGroup).
	groupOpen bool
	n         uint64
	// txStatus is the last ReadyForQuery transaction status; scs is
	// standard_conforming_strings as the server last reported it.
	txStatus byte
	scs      bool
	// dead is set when the server failed a message of the group the
	// client is still sending (deadGroup): the server skips the rest of it
	// up to Sync, so its messages are not queued (memory stays bounded
	// whatever follows) and its queries (Execute, Query, FunctionCall) are
	// answered "not executed" at once (deadRes, read by the client
	// goroutine after client returns).
	dead      bool
	deadGroup uint64
	deadRes   *schemas.QueryResult
	// judge, when set, judges each query before it is forwarded (see
	// policy.go); verdict is what it said of the message client just took
	// when a rule matched (read by the client goroutine).
	judge   Judge
	verdict *policy.Verdict
}

func newTracker(session string) *tracker {
	t := &tracker{
		session:  session,
		stmts:    map[string]*stmtEntry{},
		portals:  map[string]*portalEntry{},
		pend:     map[pendKey][]uint64{},
		txStatus: pgwire.TxIdle,
		scs:      true,
	}
	t.cond.L = &t.mu
	return t
}

func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cond.Broadcast()
}

func (t *tracker) pushLocked(it item) *item {
	if t.head >= 1024 && t.head > len(t.fifo)/2 {
		// A queue that never drains (a long pipeline) would otherwise keep
		// growing its array: move the live items to the front. (No caller
		// holds an item across a push.)
		n := copy(t.fifo, t.fifo[t.head:])
		clear(t.fifo[n:])
		t.fifo = t.fifo[:n]
		t.head = 0
	}
	it.group = t.group
	for _, k := range it.regs.all() {
		t.pend[k] = append(t.pend[k], it.group)
	}
	if it.qreg {
		t.qpend = append(t.qpend, it.group)
	}
	switch {
	case it.kind == opSynth:
	case it.endsGroup() && (it.kind == opSync || !t.groupOpen):
		t.group++
		t.groupOpen = false
	case it.endsGroup():
		it.inGroup = true
	default:
		t.groupOpen = true
	}
	t.fifo = append(t.fifo, it)
	t.pushed++
	return &t.fifo[len(t.fifo)-1]
}

// inGroupLocked looks for the latest write to (n, name) by the messages of
// the current group. found is false when none writes it; unknown is true
// when a write of unknown effect does.
func (t *tracker) inGroupLocked(n ns, name string) (st *stmtEntry, p *portalEntry, found, unknown bool) {
	for i := len(t.fifo) - 1; i >= t.head && t.fifo[i].group == t.group; i-- {
		it := &t.fifo[i]
		switch it.kind {
		case opParse:
			if n == nsStmt && it.name == name {
				return it.stmt, nil, true, false
			}
		case opBind:
			if n == nsPortal && it.name == name {
				return nil, it.portal, true, false
			}
		case opClose:
			if it.ns == n && it.name == name {
				return nil, nil, true, false
			}
		case opQuery:
			// Inside the group: it destroys the unnamed statement and
			// portal; its SQL may change any name.
			if mayHaveEffects(it.text) {
				return nil, nil, true, true
			}
			if name == "" {
				return nil, nil, true, false
			}
		case opExecute:
			for j := len(it.effects) - 1; j >= 0; j-- {
				e := it.effects[j]
				if !e.writes(n, name) {
					continue
				}
				switch e.kind {
				case effPrepare:
					return &stmtEntry{text: it.text, sum: it.sum, sqlN: it.n, eff: true}, nil, true, false
				case effDeclare:
					return nil, &portalEntry{text: it.text, sum: it.sum, sqlN: it.n, hold: e.hold, eff: true}, true, false
				case effUnknown:
					return nil, nil, true, true
				}
				return nil, nil, true, false
			}
		}
	}
	return nil, nil, false, false
}

// readLocked resolves the name a Bind (a statement) or an Execute (a
// portal) reads: from the latest write of its own group, else from the
// state once no earlier group may change it (a *waitError until then). ok
// is false when the name is unknown, or so is the write's effect.
func (t *tracker) readLocked(n ns, key string) (*stmtEntry, *portalEntry, bool, error) {
	st, p, found, unknown := t.inGroupLocked(n, key)
	if !found {
		if t.blockedLocked(n, key) {
			return nil, nil, false, &waitError{ns: n, name: key}
		}
		if n == nsStmt {
			st = t.stmts[key]
		} else {
			p = t.portals[key]
		}
	}
	return st, p, !unknown && (st != nil || p != nil), nil
}

// writes reports whether e may change (n, name).
func (e sqlEffect) writes(n ns, name string) bool {
	switch e.kind {
	case effPrepare, effDeallocate:
		return n == nsStmt && e.name == name
	case effDeallocAll:
		return n == nsStmt
	case effDeclare, effClose:
		return n == nsPortal && e.name == name
	case effCloseAll:
		return n == nsPortal
	case effDiscardAll, effUnknown:
		return true
	}
	return false
}

// trackerMark is a point in the client's messages: rollback returns to
// it, markStarted stamps what came after it.
type trackerMark struct {
	pushed uint64
	group  uint64
	open   bool
}

// markStarted sets the start time of the queries pushed since m (their
// bytes are being forwarded now).
func (t *tracker) markStarted(m trackerMark, now time.Time) {
	t.mu.Lock()
	for i := len(t.fifo) - int(t.pushed-m.pushed); i < len(t.fifo); i++ {
		t.fifo[i].start = now
	}
	t.mu.Unlock()
}

// mark returns the current point; rollback removes everything pushed
// after it (a strict-mode batch that was not forwarded).
func (t *tracker) mark() trackerMark {
	t.mu.Lock()
	defer t.mu.Unlock()
	return trackerMark{pushed: t.pushed, group: t.group, open: t.groupOpen}
}

// rollback drops the items pushed since m, as if never sent (they were
// not forwarded, so none was answered). Query numbers are not reused: the
// refused queries' events may be stored.
func (t *tracker) rollback(m trackerMark) {
	t.mu.Lock()
	defer t.mu.Unlock()
	from := len(t.fifo) - int(t.pushed-m.pushed)
	for i := len(t.fifo) - 1; i >= from; i-- {
		t.resolveLocked(&t.fifo[i])
	}
	clear(t.fifo[from:])
	t.fifo = t.fifo[:from]
	t.pushed, t.group, t.groupOpen = m.pushed, m.group, m.open
	t.cond.Broadcast()
}

func (t *tracker) headLocked() *item {
	if t.head >= len(t.fifo) {
		return nil
	}
	return &t.fifo[t.head]
}

func (t *tracker) popLocked() {
	t.resolveLocked(&t.fifo[t.head])
	t.fifo[t.head] = item{}
	t.head++
	if t.head == len(t.fifo) {
		t.fifo = t.fifo[:0]
		t.head = 0
	}
}

// outstandingLocked reports whether any message awaits the server's
// answer.
func (t *tracker) outstandingLocked() bool {
	for i := t.head; i < len(t.fifo); i++ {
		if t.fifo[i].kind != opSynth {
			return true
		}
	}
	return false
}

// inflight is the number of messages awaiting the server's answer.
func (t *tracker) inflight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.fifo) - t.head
}

// waitInflight blocks until at most n messages await an answer, or the
// group being sent is dead (the server answers nothing more of it before
// its Sync, which the caller has yet to read).
func (t *tracker) waitInflight(n int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.fifo)-t.head > n && !(t.dead && t.deadGroup == t.group) {
		if t.closed {
			return errTrackerClosed
		}
		t.cond.Wait()
	}
	return nil
}
