package relay

// Query policies in the relay: each query the server would run is judged
// by the session's statement rules before it is forwarded. A refused one
// is recorded (query, query.denied, its query.result) and never reaches
// the server: a poison Bind fails in its place, so a transaction it was
// part of fails as it would have for any error, and the client gets
// 42501 naming the rule.

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/schemas"
)

// Judge is a session's query policy.
type Judge interface {
	// Judging reports whether the session has statement rules now: when
	// not, nothing is parsed.
	Judging() bool
	// Facts are what a text does, as the SQL parser reads it (cached). It
	// is called with the session's tracker locked; text may alias a
	// buffer that is reused after the call.
	Facts(text string) *policy.Facts
	// Verdict judges facts by the session's statement rules as they are
	// now.
	Verdict(f *policy.Facts, resolve policy.Resolver) policy.Verdict
}

// errPolicyDenied: a statement rule refused the message (the tracker's
// verdict says which); it is not forwarded.
var errPolicyDenied = errors.New("relay: refused by a statement rule")

// judgeLocked judges a text the server would run (cut: kept cut, so not
// read), resolving the prepared statements its EXECUTEs name as the
// server has them (a *waitError while an earlier group may change one),
// in both readings of backslashes when the session may read them as
// escapes (scs.go).
func (t *tracker) judgeLocked(text string, cut bool) (policy.Verdict, error) {
	if cut {
		return t.verdictLocked(&policy.TooLong)
	}
	v, err := t.verdictLocked(t.judge.Facts(text))
	if err != nil || v.Deny != nil || strings.IndexByte(text, '\\') < 0 || (t.scs && !t.outstandingLocked()) {
		return v, err
	}
	// standard_conforming_strings is off, or an earlier message may turn
	// it off before this one runs: judge the server's reading too.
	if alt, changed := asConforming(text); changed {
		va, err := t.verdictLocked(t.judge.Facts(alt))
		if err != nil || va.Deny != nil {
			return va, err
		}
		if v.WouldDeny == nil {
			v.WouldDeny = va.WouldDeny
		}
		if v.Flag == nil {
			v.Flag = va.Flag
		}
	}
	return v, nil
}

// verdictLocked judges f, resolving the prepared statements its EXECUTEs
// name.
func (t *tracker) verdictLocked(f *policy.Facts) (policy.Verdict, error) {
	var prepared map[string]*policy.Facts
	for _, st := range f.Statements {
		for _, name := range st.Executes {
			stmt, _, ok, err := t.readLocked(nsStmt, protocolName(name))
			if err != nil {
				return policy.Verdict{}, err
			}
			if !ok {
				continue
			}
			if prepared == nil {
				prepared = map[string]*policy.Facts{}
			}
			prepared[name] = &policy.TooLong
			if stmt.sum == "" {
				prepared[name] = t.judge.Facts(stmt.text)
			}
		}
	}
	return t.judge.Verdict(f, func(name string) (*policy.Facts, bool) {
		pf, ok := prepared[name]
		return pf, ok
	}), nil
}

// takeVerdict returns the verdict of the message client just took, if a
// rule matched it. Only the client goroutine calls it.
func (t *tracker) takeVerdict() *policy.Verdict {
	v := t.verdict
	t.verdict = nil
	return v
}

// setVerdictLocked keeps v for takeVerdict when a rule matched.
func (t *tracker) setVerdictLocked(v policy.Verdict) {
	if v.Deny != nil || v.WouldDeny != nil || v.Flag != nil {
		t.verdict = &v
	}
}

// deniedError is what the client is told.
func deniedError(m *policy.Match, database string) pgwire.Error {
	var msg string
	if m.Rule != "" {
		msg = "tollgate: statement refused by rule " + strconv.Quote(m.Rule) + " of role " + m.Role
	} else {
		msg = "tollgate: statement refused by the statement rules"
	}
	e := pgwire.NewError(pgwire.CodeInsufficientPrivilege, msg)
	e.Detail = m.Reason
	if m.Statement > 0 {
		e.Detail = "Statement " + strconv.Itoa(m.Statement) + ": " + m.Reason + ". Nothing of this query ran."
	}
	switch m.Action {
	case schemas.ActionRequireApproval:
		e.Hint = "It needs an approved access request for role " + strings.Join(m.RequestRoles, " or ") +
			": toll db connect " + database + " --request-roles=" + m.RequestRoles[0] + ` --reason="…"`
	case schemas.ActionNotAllowed:
		e.Hint = "Ask for a role whose allow.db_statements covers it; `tollctl policy simulate` shows what a rule change would allow."
	}
	return e
}

// policyEvent is a query.denied, query.would_deny or query.flagged event.
func (s *Session) policyEvent(typ string, n uint64, m *policy.Match, now time.Time) eventlog.Event {
	data, _ := json.Marshal(schemas.QueryPolicy{SessionID: s.cfg.SessionID, N: n, Role: m.Role, Rule: m.Rule,
		Action: m.Action, Statement: m.Statement, Reason: eventlog.CutUTF8(m.Reason, 4<<10)})
	subject := eventlog.AuditSubject(s.cfg.Database, s.cfg.User, s.cfg.SessionID, typ)
	return s.newEvent(typ, subject, data, now)
}

// appendVerdictEvents adds the events of what a rule matched in a query
// that runs: query.would_deny, query.flagged.
func (b *clientBatch) appendVerdictEvents(n uint64) {
	v := b.s.t.takeVerdict()
	if v == nil {
		return
	}
	now := b.s.cfg.Builder.Clock.Now()
	if v.WouldDeny != nil {
		b.evs = append(b.evs, b.s.policyEvent(schemas.TypeQueryWouldDeny, n, v.WouldDeny, now))
	}
	if v.Flag != nil {
		b.evs = append(b.evs, b.s.policyEvent(schemas.TypeQueryFlagged, n, v.Flag, now))
	}
}

// deny handles a message a statement rule refused: its query, denial and
// result are recorded; a poison Bind goes to the server in its place. A
// Query or FunctionCall outside an extended group is followed by a Sync
// of the agent's own, whose ReadyForQuery (with the transaction status
// the failure left) ends it for the client; inside a group, the rest of
// the group goes on to the server, which skips it up to its Sync, and its
// queries are recorded as not executed.
func (b *clientBatch) deny(typ pgwire.ClientMsg, q *schemas.Query, inGroup bool) error {
	s := b.s
	v := s.t.takeVerdict()
	e := deniedError(v.Deny, s.cfg.Database)
	s.cfg.Logger.Info().Str("session", s.cfg.SessionID).Uint64("n", q.N).Str("role", v.Deny.Role).
		Str("rule", v.Deny.Rule).Str("action", v.Deny.Action).Msg("query refused by a statement rule")
	s.queries.Add(1)
	if b.evs == nil {
		b.evs = b.spare
	}
	now := s.cfg.Builder.Clock.Now()
	b.evs = append(b.evs, s.queryEvent(q), s.policyEvent(schemas.TypeQueryDenied, q.N, v.Deny, now),
		s.resultEvent(&schemas.QueryResult{SessionID: s.cfg.SessionID, N: q.N, Status: schemas.ResultError,
			SQLState: e.Code, Error: "not executed: " + e.Message}, now))
	poison := poisonBind("")
	s.t.pushRefused(&nameRefusal{e: e, poison: poison})
	b.out = append(b.out, poison...)
	if typ == pgwire.ClientExecute || inGroup {
		// The server skips the rest of the group up to its Sync; so does
		// the tracker, recording its queries as not executed.
		s.t.failGroup()
		b.open = true
		return nil
	}
	s.t.pushSync(nil)
	b.out = append(b.out, syncMsg...)
	b.groups++
	b.open = false
	if !s.cr.FrameBuffered() || len(b.out) >= flushLimit {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return b.backpressure()
}

// failGroup marks the group being sent as failed: a refused message's
// poison Bind fails it at the server.
func (t *tracker) failGroup() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dead, t.deadGroup = true, t.group
	t.cond.Broadcast()
}
