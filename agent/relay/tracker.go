package relay

import (
	"errors"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/tollgate-db/tollgate/agent/pgwire"
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
	// Queries. text and effects are those of a Query, or of an Execute's
	// statement when it may change names; eff counts the statements of a
	// Query the server completed.
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
// runs. Its state (stmts, portals) changes only on the server's answers:
// ParseComplete, BindComplete, CloseComplete, and the command tags of SQL
// that creates or drops names. A message that reads a name takes it from
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
	// whatever follows) and its Executes are answered at once (deadRes,
	// read by the client goroutine after client returns).
	dead      bool
	deadGroup uint64
	deadRes   *schemas.QueryResult
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

// client processes one client message. It returns a query to record (nil
// if none). A *waitError means: flush, wait, and call again; a *nameRefusal:
// do not forward (see nameRefusal). A malformed audited message returns an
// error wrapping pgwire.ErrMalformed.
func (t *tracker) client(typ pgwire.ClientMsg, body []byte) (*schemas.Query, error) {
	switch typ {
	case pgwire.ClientQuery, pgwire.ClientParse, pgwire.ClientBind, pgwire.ClientExecute,
		pgwire.ClientClose, pgwire.ClientDescribe, pgwire.ClientSync, pgwire.ClientFunctionCall:
	default:
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead && t.deadGroup == t.group && typ != pgwire.ClientSync {
		return t.clientDeadLocked(typ, body)
	}
	// What each message does to the state.
	switch typ {
	case pgwire.ClientQuery:
		return t.clientQueryLocked(body)
	case pgwire.ClientParse:
		return nil, t.clientParseLocked(body)
	case pgwire.ClientBind:
		return nil, t.clientBindLocked(body)
	case pgwire.ClientClose:
		return nil, t.clientCloseLocked(body)
	case pgwire.ClientDescribe:
		t.pushLocked(item{kind: opDescribe})
	case pgwire.ClientExecute:
		return t.clientExecuteLocked(body)
	case pgwire.ClientSync:
		t.pushLocked(item{kind: opSync})
	case pgwire.ClientFunctionCall:
		return t.clientFunctionLocked(body)
	}
	return nil, nil
}

// clientParseLocked: a Parse writes its statement name (if it fails, the
// server skips to Sync). Its text is kept cut past bigText.
func (t *tracker) clientParseLocked(body []byte) error {
	m, err := decodeParse(body)
	if err != nil {
		return err
	}
	text, sum := keptText(m.query)
	key := protocolName(m.name)
	t.pushLocked(item{kind: opParse, ns: nsStmt, name: key, stmt: &stmtEntry{text: text, sum: sum, eff: mayHaveEffects(text)},
		regs: keys(pendKey{ns: nsStmt, name: key})})
	return nil
}

// clientCloseLocked: a Close drops a statement or portal name.
func (t *tracker) clientCloseLocked(body []byte) error {
	n, name, err := decodeClose(body)
	if err != nil {
		return err
	}
	key := protocolName(name)
	t.pushLocked(item{kind: opClose, ns: n, name: key, regs: keys(pendKey{ns: n, name: key})})
	return nil
}

// clientQueryLocked: a simple Query destroys the unnamed statement and
// portal, and its SQL may create or drop names.
func (t *tracker) clientQueryLocked(body []byte) (*schemas.Query, error) {
	raw, nulInside, err := decodeQuery(body)
	if err != nil || nulInside {
		return nil, malformedMsg("Query", nil)
	}
	text, sum := keptText(raw)
	it := item{kind: opQuery, text: text, sum: sum, qreg: true}
	// full is the whole text, valid during this call only.
	full := unsafe.String(unsafe.SliceData(raw), len(raw))
	if mayHaveEffects(full) {
		// Which names depends on how the server splits the string
		// (standard_conforming_strings may change before it runs): later
		// groups wait for its answer.
		it.regs.add(pendKey{ns: nsStmt, all: true})
		it.regs.add(pendKey{ns: nsPortal, all: true})
		if sum != "" {
			// The kept text is cut: read the effects now, from the whole.
			it.effects, it.lexed = sqlEffects(full, t.scs), true
		}
	}
	t.n++
	it.n = t.n
	t.pushLocked(it)
	return &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindSimple, Statement: text,
		Truncated: sum != "", SHA256: sum}, nil
}

func (t *tracker) clientBindLocked(body []byte) error {
	m, err := decodeBind(body)
	if err != nil {
		return err
	}
	stmtKey, portalKey := protocolName(m.PreparedStatement), protocolName(m.DestinationPortal)
	st, _, found, unknown := t.inGroupLocked(nsStmt, stmtKey)
	if !found {
		if t.blockedLocked(nsStmt, stmtKey) {
			return &waitError{ns: nsStmt, name: stmtKey}
		}
		st = t.stmts[stmtKey]
	}
	if st == nil || unknown {
		return &nameRefusal{e: unknownStatement(m.PreparedStatement), poison: poisonBind(m.PreparedStatement), genuine: true}
	}
	p := &portalEntry{stmtName: m.PreparedStatement, text: st.text, sum: st.sum, sqlN: st.sqlN, eff: st.eff, params: bindParams(m.ParameterFormatCodes, m.Parameters)}
	t.pushLocked(item{kind: opBind, ns: nsPortal, name: portalKey, portal: p,
		regs: keys(pendKey{ns: nsPortal, name: portalKey})})
	return nil
}

func (t *tracker) clientExecuteLocked(body []byte) (*schemas.Query, error) {
	portal, err := decodeExecute(body)
	if err != nil {
		return nil, err
	}
	key := protocolName(portal)
	_, p, found, unknown := t.inGroupLocked(nsPortal, key)
	if !found {
		if t.blockedLocked(nsPortal, key) {
			return nil, &waitError{ns: nsPortal, name: key}
		}
		p = t.portals[key]
	}
	if p == nil || unknown {
		return nil, &nameRefusal{e: unknownPortal(portal), poison: poisonBind("")}
	}
	t.n++
	it := item{kind: opExecute, n: t.n}
	if p.eff {
		// A Parse holds one statement: its head, and so its effect, does
		// not depend on how strings are read (nor on a cut tail).
		it.text, it.sum, it.effects, it.lexed = p.text, p.sum, sqlEffects(p.text, t.scs), true
		it.regs = regsOf(it.effects)
	}
	t.pushLocked(it)
	return &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindExtended, Portal: portal,
		Statement: p.text, StatementName: p.stmtName, Params: p.params, PreparedBy: p.sqlN,
		Truncated: p.sum != "", SHA256: p.sum}, nil
}

// clientDeadLocked takes a message of a group the server already failed:
// nothing is queued; an Execute is recorded and answered not executed.
func (t *tracker) clientDeadLocked(typ pgwire.ClientMsg, body []byte) (*schemas.Query, error) {
	var q *schemas.Query
	switch typ {
	case pgwire.ClientExecute:
		portal, err := decodeExecute(body)
		if err != nil {
			return nil, err
		}
		q = t.deadExecuteLocked(portal)
	case pgwire.ClientQuery:
		raw, _, err := decodeQuery(body) // the server skips it unread
		if err != nil {
			return nil, err
		}
		text, sum := keptText(raw)
		t.n++
		q = &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindSimple, Statement: text, Truncated: sum != "", SHA256: sum}
	case pgwire.ClientFunctionCall:
		m, err := decodeFunctionCall(body)
		if err != nil {
			return nil, err
		}
		t.n++
		q = &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindFunctionCall,
			Statement: "function oid " + strconv.FormatUint(uint64(m.Function), 10),
			Params:    bindParams(int16s(m.ArgFormatCodes), m.Arguments)}
	default:
		return nil, nil
	}
	t.deadRes = &schemas.QueryResult{SessionID: t.session, N: t.n, Status: schemas.ResultError, Error: schemas.NotExecuted}
	return q, nil
}

// deadExecuteLocked records an Execute of a dead group with the text it
// would have had.
func (t *tracker) deadExecuteLocked(portal string) *schemas.Query {
	m := struct{ Portal string }{portal}
	t.n++
	q := &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindExtended, Portal: m.Portal}
	if _, p, found, _ := t.inGroupLocked(nsPortal, protocolName(m.Portal)); found && p != nil {
		q.Statement, q.StatementName, q.Params, q.PreparedBy = p.text, p.stmtName, p.params, p.sqlN
		q.Truncated, q.SHA256 = p.sum != "", p.sum
	} else if p := t.portals[protocolName(m.Portal)]; !found && p != nil {
		q.Statement, q.StatementName, q.Params, q.PreparedBy = p.text, p.stmtName, p.params, p.sqlN
		q.Truncated, q.SHA256 = p.sum != "", p.sum
	}
	return q
}

// takeDead returns the result of the Execute client just took in a dead
// group, if any. Only the client goroutine calls it.
func (t *tracker) takeDead() *schemas.QueryResult {
	r := t.deadRes
	t.deadRes = nil
	return r
}

func (t *tracker) clientFunctionLocked(body []byte) (*schemas.Query, error) {
	m, err := decodeFunctionCall(body)
	if err != nil {
		return nil, err
	}
	t.n++
	t.pushLocked(item{kind: opFunc, n: t.n})
	return &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindFunctionCall,
		Statement: "function oid " + strconv.FormatUint(uint64(m.Function), 10),
		Params:    bindParams(int16s(m.ArgFormatCodes), m.Arguments)}, nil
}

// pushSync queues a Sync the agent sends itself to end a group left open
// by a refused batch; pre is written to the client before its
// ReadyForQuery.
func (t *tracker) pushSync(pre *pgwire.Error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pushLocked(item{kind: opSync, preErr: pre})
}

// pushRefused queues the poison sent for a refused message.
func (t *tracker) pushRefused(r *nameRefusal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := r.e
	t.pushLocked(item{kind: opRefused, synthErr: &e, genuine: r.genuine})
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
