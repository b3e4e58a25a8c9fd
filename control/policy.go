package control

import (
	"context"
	"errors"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/policy/simulate"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Policies are the query policies' tools: the simulation of a proposed
// role over recorded history.
type Policies struct{ s *Service }

// Policies returns the service's policy tools.
func (s *Service) Policies() Policies { return Policies{s} }

// Simulate judges the queries recorded in q's window by the rules with
// q.Role in place, and reports what would have been refused; nothing is
// written. It needs the audit read right (it reads every query) and the
// role read right.
func (p Policies) Simulate(ctx context.Context, c Caller, q wire.PolicySimulate) (policy.Report, error) {
	s := p.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbRead); err != nil {
		return policy.Report{}, err
	}
	if err := s.Authorize(c, schemas.ResourceRole, schemas.VerbRead); err != nil {
		return policy.Report{}, err
	}
	if err := checkRole(q.Role); err != nil {
		return policy.Report{}, err
	}
	if q.Until.IsZero() {
		q.Until = time.Now()
	}
	if q.Since.IsZero() || !q.Since.Before(q.Until) {
		return policy.Report{}, invalidf("--since is required and must be before --until (a duration ago like 30d or 12h, or an RFC 3339 time)")
	}
	var world *projections.State
	s.View(func(st *projections.State) { world = worldOf(st) })
	rep, err := simulate.Run(ctx, s.cfg.Audit, world, s.facts, simulate.Input{Role: q.Role, Since: q.Since, Until: q.Until, User: q.User, DB: q.DB})
	if errors.Is(err, simulate.ErrNoWindow) {
		return policy.Report{}, invalidf("%v", err)
	}
	return rep, err
}

// worldOf copies what a simulation reads of st (roles, databases, users),
// so that it runs without holding the projection.
func worldOf(st *projections.State) *projections.State {
	w := &projections.State{LastSeq: st.LastSeq, LastTime: st.LastTime,
		Roles:     make(map[string]*projections.Role, len(st.Roles)),
		Databases: make(map[string]*projections.Database, len(st.Databases)),
		Users:     make(map[string]*projections.User, len(st.Users))}
	for k, v := range st.Roles {
		c := *v
		w.Roles[k] = &c
	}
	for k, v := range st.Databases {
		c := *v
		w.Databases[k] = &c
	}
	for k, v := range st.Users {
		c := *v
		w.Users[k] = &c
	}
	return w
}
