package gateway

import (
	"sync/atomic"
	"time"

	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/policy/sqlfacts"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
)

// The agent's parse cache: statement texts and what the parser read in
// them, shared by every session (a text is parsed once).
const (
	factsEntries = 16384
	factsBytes   = 32 << 20
)

// sessionPolicy is a session's statement rules, as relay.Judge: the
// agent's parse cache and the rules of the session's identity, replaced
// when the control stream changes them (refreshPolicies).
type sessionPolicy struct {
	facts *sqlfacts.Cache
	set   atomic.Pointer[policy.Set]
	// seq is the state sequence set was built from (watcher only, after
	// the session's start).
	seq uint64
}

var _ relay.Judge = (*sessionPolicy)(nil)

func (p *sessionPolicy) Judging() bool { return p.set.Load() != nil }

func (p *sessionPolicy) Facts(text string) *policy.Facts { return p.facts.Facts(text) }

func (p *sessionPolicy) Verdict(f *policy.Facts, resolve policy.Resolver) policy.Verdict {
	return p.set.Load().Judge(f, resolve)
}

// statementSet builds the rules of sess from the state at now.
func statementSet(st *projections.State, sess *frontdoor.Session, now time.Time) (*policy.Set, error) {
	id, ok := access.IdentityFor(st, sess.Identity.User, now)
	if !ok {
		return nil, nil // the watcher ends the session
	}
	roles, admitting := access.StatementRoles(st, id, sess.Database.Name, sess.DBUser, sess.DBName)
	return policy.NewSet(roles, admitting)
}

// newSessionPolicy returns the session's judge with its rules as the
// state has them now.
func (g *Gateway) newSessionPolicy(sess *frontdoor.Session, now time.Time) (*sessionPolicy, error) {
	p := &sessionPolicy{facts: g.facts}
	var err error
	g.state.view(func(st *projections.State) {
		var set *policy.Set
		if set, err = statementSet(st, sess, now); err == nil {
			p.set.Store(set)
			p.seq = st.LastSeq
		}
	})
	return p, err
}

// refreshPolicies rebuilds the rules of the live sessions whose rules
// were built from an earlier state (called by the watcher with the state
// held). A set that no longer compiles keeps the one before (control
// refuses such rules; this is a log line, not a gap).
func (g *Gateway) refreshPolicies(st *projections.State, ls []*live, now time.Time) {
	for _, l := range ls {
		if l.policy.seq == st.LastSeq {
			continue
		}
		l.policy.seq = st.LastSeq
		set, err := statementSet(st, l.sess, now)
		if err != nil {
			g.log.Error().Err(err).Str("session", l.sess.ID).Msg("statement rules do not compile; the session keeps its earlier rules")
			continue
		}
		l.policy.set.Store(set)
	}
}
