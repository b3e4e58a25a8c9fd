package relay

import (
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// serverReply is what one server message produced.
type serverReply struct {
	// pre is an error to write before this message (see item.preErr).
	pre *pgwire.Error
	// replace is the agent's error to write instead of this message (the
	// server's answer to a poison Bind).
	replace *pgwire.Error
	results []schemas.QueryResult
	synth   []item // replies to write after this message, in order
}

// serverStep is what one kind of server message does to the tracker's
// state. h is the oldest message awaiting an answer (nil: none); results
// and synthetic replies go to out.
type serverStep func(t *tracker, h *item, body []byte, now time.Time, out *serverReply)

// serverSteps are the server messages the tracker follows; the others
// (DataRow, NoticeResponse, …) change nothing it knows.
var serverSteps = [256]serverStep{
	// The answers that confirm a message's write: the state takes it.
	pgwire.ServerParseComplete: (*tracker).parseCompleteLocked,
	pgwire.ServerBindComplete:  (*tracker).bindCompleteLocked,
	pgwire.ServerCloseComplete: (*tracker).closeCompleteLocked,
	// A Describe's answer.
	pgwire.ServerRowDescription: (*tracker).describedLocked,
	pgwire.ServerNoData:         (*tracker).describedLocked,
	// The end of a statement: an Execute's result, one statement of a
	// Query (whose tag may say it created or dropped names).
	pgwire.ServerCommandComplete:    (*tracker).commandCompleteLocked,
	pgwire.ServerEmptyQueryResponse: (*tracker).emptyQueryLocked,
	pgwire.ServerPortalSuspended:    (*tracker).portalSuspendedLocked,
	// A FunctionCall ran (its result comes with ReadyForQuery).
	pgwire.ServerFunctionCallResponse: (*tracker).functionResultLocked,
	// A failure: the server skips the rest of the group up to Sync.
	pgwire.ServerErrorResponse: (*tracker).errorLocked,
	// standard_conforming_strings decides how SQL text splits.
	pgwire.ServerParameterStatus: (*tracker).parameterStatusLocked,
	// The end of a group: what the server skipped is swept, a Query's or
	// FunctionCall's result reported, idle portals dropped.
	pgwire.ServerReadyForQuery: (*tracker).readyLocked,
}

// server processes one server message; results and synthetic replies are
// appended to out.
func (t *tracker) server(typ pgwire.ServerMsg, body []byte, now time.Time, out *serverReply) {
	step := serverSteps[typ]
	if step == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	step(t, t.headLocked(), body, now, out)
}

func (t *tracker) parseCompleteLocked(h *item, _ []byte, _ time.Time, _ *serverReply) {
	if h != nil && h.kind == opParse {
		t.stmts[h.name] = h.stmt
		t.confirmLocked()
	}
}

func (t *tracker) bindCompleteLocked(h *item, _ []byte, _ time.Time, _ *serverReply) {
	if h != nil && h.kind == opBind {
		t.portals[h.name] = h.portal
		t.confirmLocked()
	}
}

func (t *tracker) closeCompleteLocked(h *item, _ []byte, _ time.Time, _ *serverReply) {
	if h != nil && h.kind == opClose {
		if h.ns == nsStmt {
			delete(t.stmts, h.name)
		} else {
			delete(t.portals, h.name)
		}
		t.confirmLocked()
	}
}

func (t *tracker) describedLocked(h *item, _ []byte, _ time.Time, _ *serverReply) {
	if h != nil && h.kind == opDescribe {
		t.confirmLocked()
	}
}

func (t *tracker) functionResultLocked(h *item, _ []byte, _ time.Time, _ *serverReply) {
	if h != nil && h.kind == opFunc && h.res.Status == "" {
		h.res.Status = schemas.ResultOK
	}
}

func (t *tracker) parameterStatusLocked(_ *item, body []byte, _ time.Time, _ *serverReply) {
	var m pgproto3.ParameterStatus
	if pgwire.Decode(&m, body) == nil && m.Name == "standard_conforming_strings" {
		t.scs = m.Value == "on"
	}
}

func (t *tracker) readyLocked(_ *item, body []byte, now time.Time, out *serverReply) {
	if len(body) == 1 {
		t.txStatus = body[0]
	}
	t.sweepLocked(now, out)
	if t.txStatus == pgwire.TxIdle {
		t.dropPortalsLocked()
	}
}

// confirmLocked pops the head, which the server answered.
func (t *tracker) confirmLocked() {
	t.popLocked()
	t.cond.Broadcast()
}

// completes reports whether h is a statement a CommandComplete,
// EmptyQueryResponse or PortalSuspended ends.
func (h *item) completes() bool {
	return h != nil && (h.kind == opExecute || h.kind == opQuery)
}

func (t *tracker) commandCompleteLocked(h *item, body []byte, now time.Time, out *serverReply) {
	if !h.completes() {
		return
	}
	var tag string
	var m pgproto3.CommandComplete
	if pgwire.Decode(&m, body) == nil {
		tag = string(m.CommandTag)
	}
	t.applyTagLocked(h, tag)
	t.completeLocked(h, schemas.ResultOK, tag, now, out)
}

func (t *tracker) emptyQueryLocked(h *item, _ []byte, now time.Time, out *serverReply) {
	if h.completes() {
		t.completeLocked(h, schemas.ResultEmpty, "", now, out)
	}
}

func (t *tracker) portalSuspendedLocked(h *item, _ []byte, now time.Time, out *serverReply) {
	if h.completes() {
		t.completeLocked(h, schemas.ResultSuspended, "", now, out)
	}
}

// completeLocked handles the end of one statement: an Execute's, which
// yields its result, or one of a simple Query's, which adds to the result
// its ReadyForQuery yields.
func (t *tracker) completeLocked(h *item, status, tag string, now time.Time, out *serverReply) {
	if h.kind == opQuery {
		if h.res.Status != schemas.ResultError && tag != "" {
			h.res.Status, h.res.CommandTag = schemas.ResultOK, tag
			h.res.Rows += tagRows(tag)
		} else if h.res.Status == "" {
			h.res.Status = status
		}
		return
	}
	h.res.Status, h.res.CommandTag, h.res.Rows = status, tag, tagRows(tag)
	out.results = append(out.results, t.resultLocked(h, now))
	t.popLocked()
	t.cond.Broadcast()
}

// applyTagLocked applies what a completed statement did to the names, as
// its command tag says. The statement's own text names them; where the
// agent's reading of the text disagrees with the tag, every name is
// forgotten (a later Bind or Execute of one is refused, never recorded
// with a guessed text).
func (t *tracker) applyTagLocked(h *item, tag string) {
	kind := tagKind(tag)
	idx := h.eff
	h.eff++
	if kind == effNone {
		// The server changed no name (the common case: nothing to read).
		// What the text seems to say does not matter then.
		return
	}
	if !h.lexed {
		h.effects, h.lexed = sqlEffects(h.text, t.scs), true
	}
	var e sqlEffect
	if idx < len(h.effects) {
		e = h.effects[idx]
	}
	if h.kind == opExecute {
		e = sqlEffect{}
		if len(h.effects) == 1 {
			e = h.effects[0]
		}
	}
	if kind != e.kind {
		t.forgetAllLocked()
		return
	}
	switch e.kind {
	case effPrepare:
		t.stmts[e.name] = &stmtEntry{text: h.text, sum: h.sum, sqlN: h.n, eff: true}
	case effDeallocate:
		delete(t.stmts, e.name)
	case effDeallocAll:
		clear(t.stmts)
	case effDiscardAll:
		clear(t.stmts)
		clear(t.portals)
	case effDeclare:
		t.portals[e.name] = &portalEntry{text: h.text, sum: h.sum, sqlN: h.n, hold: e.hold, eff: true}
	case effClose:
		delete(t.portals, e.name)
	case effCloseAll:
		clear(t.portals)
	}
}

// forgetAllLocked forgets every statement and portal: the agent can no
// longer tell what the server holds.
func (t *tracker) forgetAllLocked() {
	clear(t.stmts)
	clear(t.portals)
}

func (t *tracker) errorLocked(h *item, body []byte, _ time.Time, out *serverReply) {
	if h == nil {
		return
	}
	var m pgproto3.ErrorResponse
	_ = pgwire.Decode(&m, body)
	switch h.kind {
	case opQuery, opFunc:
		if h.res.Status != schemas.ResultError {
			h.res.Status, h.res.SQLState, h.res.Error = schemas.ResultError, m.Code, m.Message
		}
	case opRefused:
		h.failed = true
		if !(h.genuine && m.Code == pgwire.CodeInvalidSQLStatementName) {
			out.replace = h.synthErr
		}
		h.res.SQLState, h.res.Error = h.synthErr.Code, h.synthErr.Message
		if h.group == t.group {
			t.dead, t.deadGroup = true, h.group
			t.cond.Broadcast()
		}
	case opParse, opBind, opClose, opDescribe, opExecute:
		// The server skips the rest of the group; ReadyForQuery sweeps it.
		// The error is reported on the group's first Execute from here
		// on.
		h.failed = true
		h.res.SQLState, h.res.Error = m.Code, m.Message
		if h.group == t.group {
			t.dead, t.deadGroup = true, h.group
			t.cond.Broadcast()
		}
		// A failed unnamed Parse drops the old unnamed statement first; a
		// failed unnamed Bind may have dropped the old unnamed portal.
		if h.kind == opParse && h.name == "" {
			delete(t.stmts, "")
		}
		if h.kind == opBind && h.name == "" {
			delete(t.portals, "")
		}
	}
}

// sweepLocked handles a ReadyForQuery: it answers the first Sync, or a
// Query or FunctionCall that ran. Messages before it the server skipped
// (after a failure, up to Sync, Queries inside the group included) are
// dropped and their queries reported not executed; then the synthetic
// replies that follow are handed out.
func (t *tracker) sweepLocked(now time.Time, out *serverReply) {
	end := -1
	failed := false
	for i := t.head; i < len(t.fifo); i++ {
		it := &t.fifo[i]
		failed = failed || it.failed
		if it.endsGroup() && !(it.inGroup && failed) {
			end = i
			break
		}
	}
	if end < 0 {
		return // ReadyForQuery after authentication, or nothing in flight
	}
	var failure *item
	for i := t.head; i < end; i++ {
		it := &t.fifo[i]
		if it.failed && failure == nil {
			failure = it
		}
		switch it.kind {
		case opExecute, opQuery, opFunc:
		default:
			continue
		}
		switch {
		case it.kind != opExecute:
			it.res.Status, it.res.Error = schemas.ResultError, schemas.NotExecuted // ignored up to Sync
		case failure != nil:
			it.res.Status, it.res.SQLState, it.res.Error = schemas.ResultError, failure.res.SQLState, failure.res.Error
			failure = &item{res: schemas.QueryResult{Error: schemas.NotExecuted}}
		case it.res.Status == "":
			it.res.Status, it.res.Error = schemas.ResultError, schemas.NotExecuted
		}
		out.results = append(out.results, t.resultLocked(it, now))
	}
	for t.head < end {
		t.popLocked()
	}
	if h := t.headLocked(); h != nil && (h.kind == opQuery || h.kind == opFunc) {
		if h.kind == opQuery {
			// A simple Query destroys the unnamed statement and portal.
			delete(t.stmts, "")
			delete(t.portals, "")
		}
		if h.res.Status == "" {
			h.res.Status = schemas.ResultEmpty
		}
		out.results = append(out.results, t.resultLocked(h, now))
	} else if h != nil && h.preErr != nil && out.pre == nil {
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
// (ReadyForQuery 'I'), except WITH HOLD cursors.
func (t *tracker) dropPortalsLocked() {
	for name, p := range t.portals {
		if !p.hold {
			delete(t.portals, name)
		}
	}
}
