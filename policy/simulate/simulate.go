package simulate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// Input is what to simulate: a proposed role over the queries recorded
// between Since and Until (of User and DB, when set).
type Input struct {
	Role  schemas.Role
	Since time.Time
	Until time.Time
	User  string
	DB    string
}

// Parser reads a text's facts (sqlfacts.Cache).
type Parser interface {
	Facts(text string) *policy.Facts
}

// ErrNoWindow: Since is not before Until.
var ErrNoWindow = errors.New("simulate: the start must be before the end")

// Run judges the query events of audit in in's window by the rules of
// world with in.Role in place — replacing the role of its name for the
// sessions that held it, added to in.User's sessions when in.User is set,
// and enforced whatever its mode. world is a snapshot the caller owns
// (roles, databases, users as they are now). Nothing is written.
func Run(ctx context.Context, audit eventlog.Reader, world *projections.State, parse Parser, in Input) (policy.Report, error) {
	if !in.Since.Before(in.Until) {
		return policy.Report{}, ErrNoWindow
	}
	proposed := in.Role
	if proposed.Spec.Options.DBStatements != nil {
		o := *proposed.Spec.Options.DBStatements
		o.Mode = schemas.ModeEnforce
		proposed.Spec.Options.DBStatements = &o
	}
	r := &run{audit: audit, world: withRole(world, proposed), parse: parse, in: in,
		sessions: map[string]*session{}, byUser: map[string]int{}, byRule: map[string]int{}}
	r.rep = policy.Report{Role: in.Role.Name, Since: in.Since, Until: in.Until, Matches: []policy.SimMatch{}}
	q := eventlog.Query{FromTime: in.Since, ToTime: in.Until, Subjects: []string{
		eventlog.AuditFilter(in.DB, in.User, "", schemas.TypeSessionStarted),
		eventlog.AuditFilter(in.DB, in.User, "", schemas.TypeQuery)}}
	if err := audit.Read(ctx, q, func(rec eventlog.Record) error { return r.take(ctx, rec) }); err != nil {
		return policy.Report{}, fmt.Errorf("simulate: read the audit: %w", err)
	}
	r.rep.ByUser, r.rep.ByRule = counts(r.byUser), counts(r.byRule)
	return r.rep, nil
}

// withRole is world with role in place of the one of its name.
func withRole(world *projections.State, role schemas.Role) *projections.State {
	w := *world
	w.Roles = make(map[string]*projections.Role, len(world.Roles)+1)
	for k, v := range world.Roles {
		w.Roles[k] = v
	}
	pr := &projections.Role{Role: role}
	if old, ok := world.Roles[role.Name]; ok {
		pr.CreatedAt, pr.UpdatedAt = old.CreatedAt, old.UpdatedAt
	}
	w.Roles[role.Name] = pr
	return &w
}

type run struct {
	audit    eventlog.Reader
	world    *projections.State
	parse    Parser
	in       Input
	sessions map[string]*session
	byUser   map[string]int
	byRule   map[string]int
	rep      policy.Report
}

// session is a recorded session being judged.
type session struct {
	started *schemas.SessionStarted
	set     *policy.Set
	// prepared are the texts of the SQL PREPAREs it ran, by name.
	prepared map[string]*policy.Facts
	skipped  bool
}

func (r *run) take(ctx context.Context, rec eventlog.Record) error {
	switch rec.Event.Type {
	case schemas.TypeSessionStarted:
		st, err := schemas.DecodeAs[schemas.SessionStarted](rec.Event)
		if err != nil {
			return err
		}
		r.open(st)
	case schemas.TypeQuery:
		q, err := schemas.DecodeAs[schemas.Query](rec.Event)
		if err != nil {
			return err
		}
		s, err := r.session(ctx, q.SessionID)
		if err != nil || s == nil || s.skipped {
			return err
		}
		r.judge(s, q, rec.Event.Time)
	}
	return nil
}

// open starts judging a session from its session.started.
func (r *run) open(st *schemas.SessionStarted) *session {
	s := &session{started: st, prepared: map[string]*policy.Facts{}}
	r.sessions[st.SessionID] = s
	r.rep.Sessions++
	roles := append([]string(nil), st.Roles...)
	if r.in.User != "" && st.User == r.in.User && !contains(roles, r.in.Role.Name) {
		roles = append(roles, r.in.Role.Name)
	}
	id := access.Identity{User: st.User, Roles: roles}
	if u, ok := r.world.Users[st.User]; ok {
		id.Traits = u.Traits
	}
	specs, admitting := access.StatementRoles(r.world, id, st.Database, st.DBUser, st.DBName)
	set, err := policy.NewSet(specs, admitting)
	if err != nil {
		s.skipped = true
		r.rep.Skipped = append(r.rep.Skipped, policy.SimSkipped{Session: st.SessionID, Reason: err.Error()})
	}
	s.set = set
	return s
}

// session returns the session of a query, reading its session.started
// when it began before the window.
func (r *run) session(ctx context.Context, id string) (*session, error) {
	if s, ok := r.sessions[id]; ok {
		return s, nil
	}
	var st *schemas.SessionStarted
	q := eventlog.Query{Subjects: []string{eventlog.AuditFilter("", "", id, schemas.TypeSessionStarted)}, Limit: 1}
	err := r.audit.Read(ctx, q, func(rec eventlog.Record) error {
		var err error
		st, err = schemas.DecodeAs[schemas.SessionStarted](rec.Event)
		return err
	})
	if err != nil {
		return nil, err
	}
	if st == nil {
		r.sessions[id] = &session{skipped: true}
		r.rep.Skipped = append(r.rep.Skipped, policy.SimSkipped{Session: id, Reason: "its session.started is not in the audit log (past retention?)"})
		return nil, nil
	}
	return r.open(st), nil
}

// judge judges one recorded query as the agent would have.
func (r *run) judge(s *session, q *schemas.Query, at time.Time) {
	r.rep.Queries++
	f := r.facts(q)
	var v policy.Verdict
	if s.set != nil {
		v = s.set.Judge(f, func(name string) (*policy.Facts, bool) {
			pf, ok := s.prepared[name]
			return pf, ok
		})
	}
	if v.Deny == nil {
		// A PREPARE the rules let run prepares its statement (a refused
		// one prepares nothing: a later EXECUTE of it would fail).
		if q.Kind == schemas.QueryKindSimple && f.Unparseable == "" {
			for _, st := range f.Statements {
				for _, name := range st.Prepares {
					s.prepared[name] = f
				}
			}
		}
		return
	}
	m := v.Deny
	r.rep.Denied++
	r.byUser[s.started.User]++
	r.byRule[m.Role+"/"+ruleKey(m)]++
	if len(r.rep.Matches) >= policy.MaxMatches {
		r.rep.Truncated = true
		return
	}
	r.rep.Matches = append(r.rep.Matches, policy.SimMatch{Time: at, User: s.started.User, Database: s.started.Database,
		Session: q.SessionID, N: q.N, Role: m.Role, Rule: m.Rule, Action: m.Action, Statement: m.Statement,
		Reason: m.Reason, Text: cut(q.Statement, 200)})
}

// facts are the facts of a recorded query, read as the agent reads them.
func (r *run) facts(q *schemas.Query) *policy.Facts {
	switch {
	case q.Kind == schemas.QueryKindFunctionCall:
		oid, _ := strconv.ParseUint(strings.TrimPrefix(q.Statement, "function oid "), 10, 32)
		return policy.FunctionCallFacts(uint32(oid))
	case q.Truncated:
		return &policy.TooLong
	}
	return r.parse.Facts(q.Statement)
}

func ruleKey(m *policy.Match) string {
	if m.Rule != "" {
		return m.Rule
	}
	return "(" + m.Action + ")"
}

func counts(m map[string]int) []policy.Count {
	out := make([]policy.Count, 0, len(m))
	for k, v := range m {
		out = append(out, policy.Count{Key: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
