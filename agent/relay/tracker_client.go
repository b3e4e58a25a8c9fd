package relay

// The client side of the tracker: what each client message does to its
// state, as a table.

import (
	"strconv"
	"unsafe"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/schemas"
)

// clientStep is what one kind of client message does: live, in a group the
// server runs; dead, in a group the server already failed, whose messages
// it skips up to Sync (nil: nothing, and nothing is queued). A step
// returns the query to record, if any.
type clientStep struct {
	live, dead func(t *tracker, body []byte) (*schemas.Query, error)
}

// clientSteps are the client messages the tracker follows; the others
// (Flush, Terminate, CopyData, …) change nothing it knows.
var clientSteps = [256]clientStep{
	// A simple Query destroys the unnamed statement and portal, and its
	// SQL may create or drop names; recorded. Inside an open group it runs
	// unless the group failed.
	pgwire.ClientQuery: {live: (*tracker).queryLocked, dead: (*tracker).deadQueryLocked},
	// A Parse writes its statement name.
	pgwire.ClientParse: {live: (*tracker).parseLocked},
	// A Bind reads a statement and writes a portal; an unknown statement
	// is refused.
	pgwire.ClientBind: {live: (*tracker).bindLocked},
	// An Execute reads a portal and runs its text (which may create or drop
	// names); recorded. An unknown portal is refused.
	pgwire.ClientExecute: {live: (*tracker).executeLocked, dead: (*tracker).deadExecuteLocked},
	// A Close drops a statement or portal name.
	pgwire.ClientClose: {live: (*tracker).closeLocked},
	// A Describe changes nothing: it waits for its answer.
	pgwire.ClientDescribe: {live: (*tracker).describeLocked},
	// A Sync ends the group, failed or not.
	pgwire.ClientSync: {live: (*tracker).syncLocked, dead: (*tracker).syncLocked},
	// A FunctionCall runs a function by oid; recorded.
	pgwire.ClientFunctionCall: {live: (*tracker).functionLocked, dead: (*tracker).deadFunctionLocked},
}

// client processes one client message. It returns a query to record (nil
// if none). A *waitError means: flush, wait, and call again; a *nameRefusal:
// do not forward (see nameRefusal). A malformed audited message returns an
// error wrapping pgwire.ErrMalformed. A query of a dead group is answered
// at once: takeDead has its result.
func (t *tracker) client(typ pgwire.ClientMsg, body []byte) (*schemas.Query, error) {
	step := &clientSteps[typ]
	if step.live == nil {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.dead || t.deadGroup != t.group {
		return step.live(t, body)
	}
	if step.dead == nil {
		return nil, nil
	}
	q, err := step.dead(t, body)
	if q != nil {
		t.deadRes = &schemas.QueryResult{SessionID: t.session, N: q.N, Status: schemas.ResultError, Error: schemas.NotExecuted}
	}
	return q, err
}

// parseLocked: if the Parse fails, the server skips to Sync. Its text is
// kept cut past bigText.
func (t *tracker) parseLocked(body []byte) (*schemas.Query, error) {
	m, err := decodeParse(body)
	if err != nil {
		return nil, err
	}
	text, sum := keptText(m.query)
	key := protocolName(m.name)
	t.pushLocked(item{kind: opParse, ns: nsStmt, name: key, stmt: &stmtEntry{text: text, sum: sum, eff: mayHaveEffects(text)},
		regs: keys(pendKey{ns: nsStmt, name: key})})
	return nil, nil
}

func (t *tracker) closeLocked(body []byte) (*schemas.Query, error) {
	n, name, err := decodeClose(body)
	if err != nil {
		return nil, err
	}
	key := protocolName(name)
	t.pushLocked(item{kind: opClose, ns: n, name: key, regs: keys(pendKey{ns: n, name: key})})
	return nil, nil
}

func (t *tracker) describeLocked([]byte) (*schemas.Query, error) {
	t.pushLocked(item{kind: opDescribe})
	return nil, nil
}

func (t *tracker) syncLocked([]byte) (*schemas.Query, error) {
	t.pushLocked(item{kind: opSync})
	return nil, nil
}

// queryLocked: which names the SQL changes depends on how the server
// splits the string, so while it may change any, later groups wait for
// its answer.
func (t *tracker) queryLocked(body []byte) (*schemas.Query, error) {
	raw, nulInside, err := decodeQuery(body)
	if err != nil || nulInside {
		return nil, malformedMsg("Query", nil)
	}
	// full is the whole text, valid during this call only.
	full := unsafe.String(unsafe.SliceData(raw), len(raw))
	var v policy.Verdict
	if t.judge != nil && t.judge.Judging() {
		if v, err = t.judgeLocked(full, false); err != nil {
			return nil, err
		}
		t.setVerdictLocked(v)
	}
	text, sum := keptText(raw)
	if v.Deny != nil {
		return t.simpleQueryLocked(text, sum), errPolicyDenied
	}
	it := item{kind: opQuery, text: text, sum: sum, qreg: true}
	if mayHaveEffects(full) {
		// standard_conforming_strings may change before it runs.
		it.regs.add(pendKey{ns: nsStmt, all: true})
		it.regs.add(pendKey{ns: nsPortal, all: true})
		if sum != "" {
			// The kept text is cut: read the effects now, from the whole.
			it.effects, it.lexed = sqlEffects(full, t.scs), true
		}
	}
	q := t.simpleQueryLocked(text, sum)
	it.n = q.N
	t.pushLocked(it)
	return q, nil
}

// deadQueryLocked records a Query the server skips unread.
func (t *tracker) deadQueryLocked(body []byte) (*schemas.Query, error) {
	raw, _, err := decodeQuery(body)
	if err != nil {
		return nil, err
	}
	return t.simpleQueryLocked(keptText(raw)), nil
}

func (t *tracker) simpleQueryLocked(text, sum string) *schemas.Query {
	t.n++
	return &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindSimple, Statement: text,
		Truncated: sum != "", SHA256: sum}
}

func (t *tracker) bindLocked(body []byte) (*schemas.Query, error) {
	m, err := decodeBind(body)
	if err != nil {
		return nil, err
	}
	stmtKey, portalKey := protocolName(m.PreparedStatement), protocolName(m.DestinationPortal)
	st, _, ok, err := t.readLocked(nsStmt, stmtKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &nameRefusal{e: unknownStatement(m.PreparedStatement), poison: poisonBind(m.PreparedStatement), genuine: true}
	}
	p := &portalEntry{stmtName: m.PreparedStatement, text: st.text, sum: st.sum, sqlN: st.sqlN, eff: st.eff, params: bindParams(m.ParameterFormatCodes, m.Parameters)}
	t.pushLocked(item{kind: opBind, ns: nsPortal, name: portalKey, portal: p,
		regs: keys(pendKey{ns: nsPortal, name: portalKey})})
	return nil, nil
}

func (t *tracker) executeLocked(body []byte) (*schemas.Query, error) {
	portal, err := decodeExecute(body)
	if err != nil {
		return nil, err
	}
	_, p, ok, err := t.readLocked(nsPortal, protocolName(portal))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &nameRefusal{e: unknownPortal(portal), poison: poisonBind("")}
	}
	var v policy.Verdict
	if t.judge != nil && t.judge.Judging() {
		if v, err = t.judgeLocked(p.text, p.sum != ""); err != nil {
			return nil, err
		}
	}
	t.n++
	q := &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindExtended, Portal: portal,
		Statement: p.text, StatementName: p.stmtName, Params: p.params, PreparedBy: p.sqlN,
		Truncated: p.sum != "", SHA256: p.sum}
	t.setVerdictLocked(v)
	if v.Deny != nil {
		return q, errPolicyDenied
	}
	it := item{kind: opExecute, n: t.n}
	if p.eff {
		// A Parse holds one statement: its head, and so its effect, does
		// not depend on how strings are read (nor on a cut tail).
		it.text, it.sum, it.effects, it.lexed = p.text, p.sum, sqlEffects(p.text, t.scs), true
		it.regs = regsOf(it.effects)
	}
	t.pushLocked(it)
	return q, nil
}

// deadExecuteLocked records an Execute the server skips, with the text it
// would have run (none when its portal is unknown).
func (t *tracker) deadExecuteLocked(body []byte) (*schemas.Query, error) {
	portal, err := decodeExecute(body)
	if err != nil {
		return nil, err
	}
	t.n++
	q := &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindExtended, Portal: portal}
	key := protocolName(portal)
	_, p, found, _ := t.inGroupLocked(nsPortal, key)
	if !found {
		p = t.portals[key]
	}
	if p != nil {
		q.Statement, q.StatementName, q.Params, q.PreparedBy = p.text, p.stmtName, p.params, p.sqlN
		q.Truncated, q.SHA256 = p.sum != "", p.sum
	}
	return q, nil
}

// takeDead returns the result of the query client just took in a dead
// group, if any. Only the client goroutine calls it.
func (t *tracker) takeDead() *schemas.QueryResult {
	r := t.deadRes
	t.deadRes = nil
	return r
}

func (t *tracker) functionLocked(body []byte) (*schemas.Query, error) {
	m, err := decodeFunctionCall(body)
	if err != nil {
		return nil, err
	}
	q := t.functionQueryLocked(m)
	if t.judge != nil && t.judge.Judging() {
		v := t.judge.Verdict(policy.FunctionCallFacts(m.Function), nil)
		t.setVerdictLocked(v)
		if v.Deny != nil {
			return q, errPolicyDenied
		}
	}
	t.pushLocked(item{kind: opFunc, n: q.N})
	return q, nil
}

func (t *tracker) deadFunctionLocked(body []byte) (*schemas.Query, error) {
	m, err := decodeFunctionCall(body)
	if err != nil {
		return nil, err
	}
	return t.functionQueryLocked(m), nil
}

func (t *tracker) functionQueryLocked(m *pgproto3.FunctionCall) *schemas.Query {
	t.n++
	return &schemas.Query{SessionID: t.session, N: t.n, Kind: schemas.QueryKindFunctionCall,
		Statement: "function oid " + strconv.FormatUint(uint64(m.Function), 10),
		Params:    bindParams(int16s(m.ArgFormatCodes), m.Arguments)}
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

// openGroup reports whether messages of an extended group were sent since
// the last Sync (a Query now runs inside it).
func (t *tracker) openGroup() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.groupOpen
}
