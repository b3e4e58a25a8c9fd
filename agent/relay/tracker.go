package relay

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/agent/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// Query kinds (schemas.Query.Kind).
const (
	KindSimple       = "simple"
	KindExtended     = "extended"
	KindFunctionCall = "function_call"
)

// Result statuses (schemas.QueryResult.Status).
const (
	StatusOK        = "ok"
	StatusError     = "error"
	StatusEmpty     = "empty"
	StatusSuspended = "suspended"
)

// notExecuted is the error of an Execute the server skipped because an
// earlier message of its pipeline failed.
const notExecuted = "not executed: an earlier message of the pipeline failed"

var (
	// errWait means the message reads a statement or portal that an earlier,
	// not yet answered sync group writes: flush and call wait first.
	errWait = errors.New("relay: wait for earlier sync groups")
	// errTrackerClosed means the session ended while waiting.
	errTrackerClosed = errors.New("relay: session ended")
)

type stmtEntry struct{ text string }

type portalEntry struct {
	stmtName string
	text     string
	params   []schemas.QueryParam
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
	opFunc  // FunctionCall: answered by ReadyForQuery
	opSynth // a reply the agent writes itself, in order
)

// item is one client message awaiting the server's answer.
type item struct {
	kind  opKind
	group uint64
	// State writes (Parse, Bind, Close) and their undo.
	portal     bool
	name       string
	prevStmt   *stmtEntry
	newStmt    *stmtEntry
	prevPortal *portalEntry
	newPortal  *portalEntry
	failed     bool
	// Queries.
	n     uint64
	start time.Time
	res   schemas.QueryResult
	// Synthetic replies.
	synthErr *pgwire.Error
	synthRFQ bool
	// preErr, on an opSync the agent injected to close a group of a refused
	// batch, is written to the client before the server's ReadyForQuery.
	preErr *pgwire.Error
}

func (it *item) endsGroup() bool {
	return it.kind == opSync || it.kind == opQuery || it.kind == opFunc
}

func (it *item) writes() bool {
	return it.kind == opParse || it.kind == opBind || it.kind == opClose
}

// tracker follows statements, portals and the in-flight queue of one
// session. The client goroutine calls client*, the server goroutine
// server*; a mutex guards the shared state.
type tracker struct {
	mu      sync.Mutex
	cond    sync.Cond
	closed  bool
	session string

	stmts   map[string]*stmtEntry
	portals map[string]*portalEntry
	// pending writes per name: the sync groups of unresolved items, oldest
	// first.
	pendStmt   map[string][]uint64
	pendPortal map[string][]uint64

	fifo  []item
	head  int
	group uint64
	n     uint64
	// sql is the last ReadyForQuery transaction status.
	txStatus byte
}

func newTracker(session string) *tracker {
	t := &tracker{
		session:    session,
		stmts:      map[string]*stmtEntry{},
		portals:    map[string]*portalEntry{},
		pendStmt:   map[string][]uint64{},
		pendPortal: map[string][]uint64{},
		txStatus:   pgwire.TxIdle,
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

func cstring(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

// blockedLocked reports whether name has unresolved writes from an earlier
// group.
func (t *tracker) blockedLocked(portal bool, name string) bool {
	m := t.pendStmt
	if portal {
		m = t.pendPortal
	}
	g := m[name]
	return len(g) > 0 && g[0] < t.group
}

// wait blocks until the names the next message reads have no unresolved
// writes from earlier groups. The caller must have flushed its output.
func (t *tracker) wait(portal bool, name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.blockedLocked(portal, name) {
		if t.closed {
			return errTrackerClosed
		}
		t.cond.Wait()
	}
	return nil
}

// WaitError is returned by client when the message must wait; it names
// what to wait for.
type waitError struct {
	portal bool
	name   string
}

func (e *waitError) Error() string { return errWait.Error() }
func (e *waitError) Unwrap() error { return errWait }

func (t *tracker) pushLocked(it item) *item {
	it.group = t.group
	if it.writes() {
		if it.portal {
			t.pendPortal[it.name] = append(t.pendPortal[it.name], it.group)
		} else {
			t.pendStmt[it.name] = append(t.pendStmt[it.name], it.group)
		}
	}
	t.fifo = append(t.fifo, it)
	if it.endsGroup() {
		t.group++
	}
	return &t.fifo[len(t.fifo)-1]
}

// client processes one client message. It returns a query to record (nil
// if none). A *waitError means: flush, wait, and call again. A malformed
// audited message returns an error wrapping pgwire.ErrMalformed.
func (t *tracker) client(typ byte, body []byte) (*schemas.Query, error) {
	switch typ {
	case pgwire.MsgQuery, pgwire.MsgParse, pgwire.MsgBind, pgwire.MsgExecute,
		pgwire.MsgClose, pgwire.MsgDescribe, pgwire.MsgSync, pgwire.MsgFunctionCall:
	default:
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch typ {
	case pgwire.MsgQuery:
		var m pgproto3.Query
		if err := pgwire.Decode(&m, body); err != nil {
			return nil, malformedMsg("Query", err)
		}
		if t.blockedLocked(false, "") {
			return nil, &waitError{name: ""}
		}
		// A simple Query destroys the unnamed statement.
		delete(t.stmts, "")
		t.n++
		t.pushLocked(item{kind: opQuery, n: t.n})
		return &schemas.Query{SessionID: t.session, N: t.n, Kind: KindSimple, Statement: m.String}, nil
	case pgwire.MsgParse:
		name, rest, ok := cstring(body)
		if !ok {
			return nil, malformedMsg("Parse", nil)
		}
		text, _, ok := cstring(rest)
		if !ok {
			return nil, malformedMsg("Parse", nil)
		}
		if name != "" && t.blockedLocked(false, name) {
			return nil, &waitError{name: name}
		}
		prev := t.stmts[name]
		next := prev
		if name == "" || prev == nil {
			// A named statement that exists is refused by the server and
			// kept unchanged.
			next = &stmtEntry{text: text}
			t.stmts[name] = next
		}
		t.pushLocked(item{kind: opParse, name: name, prevStmt: prev, newStmt: next})
		return nil, nil
	case pgwire.MsgBind:
		var m pgproto3.Bind
		if err := pgwire.Decode(&m, body); err != nil {
			return nil, malformedMsg("Bind", err)
		}
		if t.blockedLocked(false, m.PreparedStatement) {
			return nil, &waitError{name: m.PreparedStatement}
		}
		if m.DestinationPortal != "" && t.blockedLocked(true, m.DestinationPortal) {
			return nil, &waitError{portal: true, name: m.DestinationPortal}
		}
		prev := t.portals[m.DestinationPortal]
		next := prev
		if m.DestinationPortal == "" || prev == nil {
			next = &portalEntry{stmtName: m.PreparedStatement, params: bindParams(&m)}
			if st := t.stmts[m.PreparedStatement]; st != nil {
				next.text = st.text
			}
			t.portals[m.DestinationPortal] = next
		}
		t.pushLocked(item{kind: opBind, portal: true, name: m.DestinationPortal, prevPortal: prev, newPortal: next})
		return nil, nil
	case pgwire.MsgClose:
		if len(body) < 2 || (body[0] != 'S' && body[0] != 'P') {
			return nil, malformedMsg("Close", nil)
		}
		name, _, ok := cstring(body[1:])
		if !ok {
			return nil, malformedMsg("Close", nil)
		}
		it := item{kind: opClose, portal: body[0] == 'P', name: name}
		if it.portal {
			it.prevPortal = t.portals[name]
			delete(t.portals, name)
		} else {
			it.prevStmt = t.stmts[name]
			delete(t.stmts, name)
		}
		t.pushLocked(it)
		return nil, nil
	case pgwire.MsgDescribe:
		t.pushLocked(item{kind: opDescribe})
		return nil, nil
	case pgwire.MsgExecute:
		var m pgproto3.Execute
		if err := pgwire.Decode(&m, body); err != nil {
			return nil, malformedMsg("Execute", err)
		}
		if t.blockedLocked(true, m.Portal) {
			return nil, &waitError{portal: true, name: m.Portal}
		}
		t.n++
		t.pushLocked(item{kind: opExecute, n: t.n})
		q := &schemas.Query{SessionID: t.session, N: t.n, Kind: KindExtended, Portal: m.Portal}
		if p := t.portals[m.Portal]; p != nil {
			q.Statement, q.StatementName, q.Params = p.text, p.stmtName, p.params
		}
		return q, nil
	case pgwire.MsgSync:
		t.pushLocked(item{kind: opSync})
	case pgwire.MsgFunctionCall:
		if len(body) < 4 {
			return nil, malformedMsg("FunctionCall", nil)
		}
		oid := binary.BigEndian.Uint32(body)
		t.n++
		t.pushLocked(item{kind: opFunc, n: t.n})
		return &schemas.Query{SessionID: t.session, N: t.n, Kind: KindFunctionCall,
			Statement: "function oid " + strconv.FormatUint(uint64(oid), 10)}, nil
	}
	return nil, nil
}

// pushSync queues a Sync the agent sends itself to end a group left open
// by a refused batch; pre is written to the client before its
// ReadyForQuery.
func (t *tracker) pushSync(pre *pgwire.Error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pushLocked(item{kind: opSync, preErr: pre})
}

func malformedMsg(name string, err error) error {
	if err != nil {
		return &pgwire.FrameError{Reason: name + ": " + err.Error(), Err: pgwire.ErrMalformed}
	}
	return &pgwire.FrameError{Reason: name, Err: pgwire.ErrMalformed}
}

func bindParams(m *pgproto3.Bind) []schemas.QueryParam {
	if len(m.Parameters) == 0 {
		return nil
	}
	ps := make([]schemas.QueryParam, len(m.Parameters))
	for i, v := range m.Parameters {
		var format int16
		switch len(m.ParameterFormatCodes) {
		case 0:
		case 1:
			format = m.ParameterFormatCodes[0]
		default:
			if i < len(m.ParameterFormatCodes) {
				format = m.ParameterFormatCodes[i]
			}
		}
		switch {
		case v == nil:
			ps[i] = schemas.QueryParam{Format: "null"}
		case format == 1:
			ps[i] = schemas.QueryParam{Format: "binary", Value: base64.StdEncoding.EncodeToString(v)}
		default:
			ps[i] = schemas.QueryParam{Format: "text", Value: string(v)}
		}
	}
	return ps
}

// markStarted sets the start time of queries pushed since index from
// (their bytes are being forwarded now).
func (t *tracker) markStarted(from int, now time.Time) {
	t.mu.Lock()
	for i := max(from, t.head); i < len(t.fifo); i++ {
		t.fifo[i].start = now
	}
	t.mu.Unlock()
}

// mark returns the current queue position; rollback removes everything
// pushed after it (a strict-mode batch that was not forwarded).
func (t *tracker) mark() (pos int, group uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.fifo) - t.head, t.group
}

// rollback undoes the items pushed since mark, newest first.
func (t *tracker) rollback(pos int, group uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.fifo) - 1; i >= t.head+pos; i-- {
		t.undoLocked(&t.fifo[i])
		t.resolveLocked(&t.fifo[i])
	}
	t.fifo = t.fifo[:t.head+pos]
	t.group = group
	t.cond.Broadcast()
}

// undoLocked reverts the state change of a write the server did not apply.
func (t *tracker) undoLocked(it *item) {
	if !it.writes() {
		return
	}
	if it.portal {
		if t.portals[it.name] == it.newPortal {
			restore := it.prevPortal
			if it.failed && it.kind == opBind && it.name == "" {
				restore = nil // a failed unnamed Bind may have dropped the old portal
			}
			setOrDelete(t.portals, it.name, restore)
		}
		return
	}
	if t.stmts[it.name] == it.newStmt {
		restore := it.prevStmt
		if it.failed && it.kind == opParse && it.name == "" {
			restore = nil // a failed unnamed Parse drops the old one first
		}
		setOrDelete(t.stmts, it.name, restore)
	}
}

func setOrDelete[V any](m map[string]*V, k string, v *V) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// resolveLocked drops a write from the per-name pending lists.
func (t *tracker) resolveLocked(it *item) {
	if !it.writes() {
		return
	}
	m := t.pendStmt
	if it.portal {
		m = t.pendPortal
	}
	g := m[it.name]
	if len(g) <= 1 {
		delete(m, it.name)
		return
	}
	// Items resolve in queue order, but a rollback resolves the newest.
	for i := range g {
		if g[i] == it.group {
			m[it.name] = append(g[:i:i], g[i+1:]...)
			return
		}
	}
}

func (t *tracker) headLocked() *item {
	if t.head >= len(t.fifo) {
		return nil
	}
	return &t.fifo[t.head]
}

func (t *tracker) popLocked() {
	t.fifo[t.head] = item{}
	t.head++
	if t.head == len(t.fifo) {
		t.fifo = t.fifo[:0]
		t.head = 0
	}
}

// outstanding reports whether any message awaits the server's answer.
func (t *tracker) outstandingLocked() bool {
	for i := t.head; i < len(t.fifo); i++ {
		if t.fifo[i].kind != opSynth {
			return true
		}
	}
	return false
}

// serverReply is what one server message produced.
type serverReply struct {
	// pre is an error to write before this message (see item.preErr).
	pre     *pgwire.Error
	results []schemas.QueryResult
	synth   []item // replies to write after this message, in order
}

// server processes one server message; results and synthetic replies are
// appended to out.
func (t *tracker) server(typ byte, body []byte, now time.Time, out *serverReply) {
	switch typ {
	case pgwire.MsgParseComplete, pgwire.MsgBindComplete, pgwire.MsgCloseComplete,
		pgwire.MsgRowDescription, pgwire.MsgNoData, pgwire.MsgCommandComplete,
		pgwire.MsgEmptyQueryResponse, pgwire.MsgPortalSuspended, pgwire.MsgErrorResponse,
		pgwire.MsgReadyForQuery, pgwire.MsgFunctionCallResponse:
	default:
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.headLocked()
	switch typ {
	case pgwire.MsgParseComplete:
		t.confirmLocked(h, opParse)
	case pgwire.MsgBindComplete:
		t.confirmLocked(h, opBind)
	case pgwire.MsgCloseComplete:
		t.confirmLocked(h, opClose)
	case pgwire.MsgRowDescription, pgwire.MsgNoData:
		if h != nil && h.kind == opDescribe {
			t.popLocked()
		}
	case pgwire.MsgCommandComplete, pgwire.MsgEmptyQueryResponse, pgwire.MsgPortalSuspended:
		if h == nil || (h.kind != opExecute && h.kind != opQuery) {
			return
		}
		var tag string
		status := StatusOK
		switch typ {
		case pgwire.MsgCommandComplete:
			var m pgproto3.CommandComplete
			if pgwire.Decode(&m, body) == nil {
				tag = string(m.CommandTag)
			}
		case pgwire.MsgEmptyQueryResponse:
			status = StatusEmpty
		default:
			status = StatusSuspended
		}
		if h.kind == opQuery {
			if h.res.Status != StatusError && tag != "" {
				h.res.Status, h.res.CommandTag = StatusOK, tag
				h.res.Rows += tagRows(tag)
			} else if h.res.Status == "" {
				h.res.Status = status
			}
			return
		}
		h.res.Status, h.res.CommandTag, h.res.Rows = status, tag, tagRows(tag)
		out.results = append(out.results, t.resultLocked(h, now))
		t.popLocked()
	case pgwire.MsgFunctionCallResponse:
		if h != nil && h.kind == opFunc && h.res.Status == "" {
			h.res.Status = StatusOK
		}
	case pgwire.MsgErrorResponse:
		if h == nil {
			return
		}
		var m pgproto3.ErrorResponse
		_ = pgwire.Decode(&m, body)
		switch h.kind {
		case opQuery, opFunc:
			if h.res.Status != StatusError {
				h.res.Status, h.res.SQLState, h.res.Error = StatusError, m.Code, m.Message
			}
		case opParse, opBind, opClose, opDescribe, opExecute:
			// The server skips the rest of the group; ReadyForQuery sweeps it.
			// The error is reported on the group's first Execute from here
			// on (it may not be queued yet: see sweepLocked).
			h.failed = true
			h.res.SQLState, h.res.Error = m.Code, m.Message
		}
	case pgwire.MsgReadyForQuery:
		if len(body) == 1 {
			t.txStatus = body[0]
		}
		t.sweepLocked(now, out)
		if t.txStatus == pgwire.TxIdle {
			t.dropPortalsLocked()
		}
	}
}

func (t *tracker) confirmLocked(h *item, kind opKind) {
	if h == nil || h.kind != kind {
		return
	}
	t.resolveLocked(h)
	t.popLocked()
	t.cond.Broadcast()
}

// sweepLocked ends the group at the head of the queue at ReadyForQuery:
// messages the server skipped are undone (newest first) and their Executes
// reported not executed; then the synthetic replies that follow are handed
// out.
func (t *tracker) sweepLocked(now time.Time, out *serverReply) {
	end := -1
	for i := t.head; i < len(t.fifo); i++ {
		if t.fifo[i].endsGroup() {
			end = i
			break
		}
	}
	if end < 0 {
		return // ReadyForQuery after authentication, or nothing in flight
	}
	for i := end - 1; i >= t.head; i-- {
		t.undoLocked(&t.fifo[i])
		t.resolveLocked(&t.fifo[i])
	}
	var failure *item
	for i := t.head; i < end; i++ {
		it := &t.fifo[i]
		if it.failed && failure == nil {
			failure = it
		}
		if it.kind != opExecute {
			continue
		}
		switch {
		case failure != nil:
			it.res.Status, it.res.SQLState, it.res.Error = StatusError, failure.res.SQLState, failure.res.Error
			failure = &item{res: schemas.QueryResult{Error: notExecuted}}
		case it.res.Status == "":
			it.res.Status, it.res.Error = StatusError, notExecuted
		}
		out.results = append(out.results, t.resultLocked(it, now))
	}
	for t.head < end {
		t.popLocked()
	}
	if h := t.headLocked(); h != nil && (h.kind == opQuery || h.kind == opFunc) {
		if h.res.Status == "" {
			h.res.Status = StatusEmpty
		}
		out.results = append(out.results, t.resultLocked(h, now))
	} else if h != nil && h.preErr != nil {
		out.pre = h.preErr
	}
	t.popLocked()
	for h := t.headLocked(); h != nil && h.kind == opSynth; h = t.headLocked() {
		out.synth = append(out.synth, *h)
		t.popLocked()
	}
	t.cond.Broadcast()
}

func (t *tracker) resultLocked(it *item, now time.Time) schemas.QueryResult {
	r := it.res
	r.SessionID, r.N = t.session, it.n
	if !it.start.IsZero() {
		r.DurationUS = now.Sub(it.start).Microseconds()
	}
	return r
}

// tagRows parses the row count of a command tag by its kind: "INSERT oid
// rows", "SELECT rows", "UPDATE rows", "DELETE rows", "MERGE rows",
// "FETCH rows", "MOVE rows", "COPY rows"; 0 for other tags.
func tagRows(tag string) int64 {
	verb, rest, ok := strings.Cut(tag, " ")
	if !ok {
		return 0
	}
	switch verb {
	case "INSERT":
		_, rows, ok := strings.Cut(rest, " ")
		if !ok {
			return 0
		}
		rest = rows
	case "SELECT", "UPDATE", "DELETE", "MERGE", "FETCH", "MOVE", "COPY":
	default:
		return 0
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// dropPortalsLocked forgets the portals at the end of a transaction
// (ReadyForQuery 'I'), except names a later, unanswered Bind writes.
func (t *tracker) dropPortalsLocked() {
	for name := range t.portals {
		if len(t.pendPortal[name]) == 0 {
			delete(t.portals, name)
		}
	}
}

// backendKey decodes a BackendKeyData body.
func backendKey(body []byte) (pid, secret uint32, ok bool) {
	if len(body) != 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:]), true
}
