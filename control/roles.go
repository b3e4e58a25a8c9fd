package control

import (
	"context"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Roles are the named rule sets users hold: created, replaced, read,
// listed and deleted while no user holds them.
type Roles struct{ s *Service }

// Roles returns the service's roles.
func (s *Service) Roles() Roles { return Roles{s} }

func roleView(r *projections.Role) wire.Role {
	return wire.Role{Role: r.Role, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func checkRole(r schemas.Role) error {
	if err := validName("role", r.Name); err != nil {
		return err
	}
	if ttl := r.Spec.Options.MaxSessionTTL; ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return invalidf("role %s: spec.options.max_session_ttl %q is not a positive duration like 8h", r.Name, ttl)
		}
	}
	if m := r.Spec.Options.RequireMFA; m != "" && m != schemas.RequireMFALogin && m != schemas.RequireMFASession {
		return invalidf("role %s: spec.options.require_mfa %q: use login (a second factor at toll login), session (also one per database session) or leave it out", r.Name, m)
	}
	if rq := r.Spec.Allow.Request; rq != nil {
		if md := rq.MaxDuration; md != "" {
			if d, err := time.ParseDuration(md); err != nil || d <= 0 {
				return invalidf("role %s: spec.allow.request.max_duration %q is not a positive duration like 8h", r.Name, md)
			}
		}
		for _, t := range rq.Thresholds {
			if t.Approve < 0 || t.Deny < 0 {
				return invalidf("role %s: spec.allow.request.thresholds: approve and deny are counts of reviews, at least 1", r.Name)
			}
		}
	}
	if err := policy.Check(r.Spec); err != nil {
		return invalidf("role %s: %v", r.Name, err)
	}
	if r.Spec.Deny.ReviewRequests != nil {
		return invalidf("role %s: spec.deny.review_requests means nothing: a role allows reviewing (allow.review_requests) or not", r.Name)
	}
	return nil
}

// Create creates a role.
func (rs Roles) Create(ctx context.Context, c Caller, r schemas.Role) (wire.Role, error) {
	s := rs.s
	if err := checkRole(r); err != nil {
		return wire.Role{}, err
	}
	_, err := s.change(ctx, c.Actor(), eventlog.KindRole, r.Name, schemas.TypeRoleCreated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceRole, schemas.VerbCreate); err != nil {
			return nil, err
		}
		if _, ok := st.Roles[r.Name]; ok {
			return nil, existsf("role %s already exists (use tollctl roles update -f)", r.Name)
		}
		return r, nil
	})
	if err != nil {
		return wire.Role{}, err
	}
	return s.roleGet(r.Name)
}

// Update replaces a role. Two concurrent updates: one wins, the other
// gets a conflict (409) "role X changed concurrently; retry".
func (rs Roles) Update(ctx context.Context, c Caller, r schemas.Role) (wire.Role, error) {
	s := rs.s
	if err := checkRole(r); err != nil {
		return wire.Role{}, err
	}
	_, err := s.change(ctx, c.Actor(), eventlog.KindRole, r.Name, schemas.TypeRoleUpdated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceRole, schemas.VerbUpdate); err != nil {
			return nil, err
		}
		if _, ok := st.Roles[r.Name]; !ok {
			return nil, notFoundf("role %s not found (use tollctl roles create -f)", r.Name)
		}
		return r, nil
	})
	if err != nil {
		return wire.Role{}, err
	}
	return s.roleGet(r.Name)
}

func (s *Service) roleGet(name string) (wire.Role, error) {
	var (
		out wire.Role
		err error
	)
	s.View(func(st *projections.State) {
		r, ok := st.Roles[name]
		if !ok {
			err = notFoundf("role %s not found (tollctl roles ls)", name)
			return
		}
		out = roleView(r)
	})
	return out, err
}

// Get returns one role.
func (rs Roles) Get(c Caller, name string) (wire.Role, error) {
	s := rs.s
	if err := s.Authorize(c, schemas.ResourceRole, schemas.VerbRead); err != nil {
		return wire.Role{}, err
	}
	return s.roleGet(name)
}

// List lists roles.
func (rs Roles) List(c Caller) ([]wire.Role, error) {
	s := rs.s
	var (
		out []wire.Role
		err error
	)
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceRole, schemas.VerbList); err != nil {
			return
		}
		for _, r := range st.Roles {
			out = append(out, roleView(r))
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Rm deletes a role no user holds.
func (rs Roles) Rm(ctx context.Context, c Caller, name string) error {
	s := rs.s
	_, err := s.change(ctx, c.Actor(), eventlog.KindRole, name, schemas.TypeRoleDeleted, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceRole, schemas.VerbDelete); err != nil {
			return nil, err
		}
		if _, ok := st.Roles[name]; !ok {
			return nil, notFoundf("role %s not found (tollctl roles ls)", name)
		}
		var holders []string
		for _, u := range st.Users {
			for _, r := range u.Roles {
				if r == name {
					holders = append(holders, u.Name)
				}
			}
		}
		if len(holders) > 0 {
			sort.Strings(holders)
			return nil, invalidf("role %s is held by %v; remove it from them first (tollctl users update)", name, holders)
		}
		return schemas.RoleDeleted{Name: name}, nil
	})
	return err
}
