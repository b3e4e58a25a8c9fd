package control

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/control/secret"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// Users are the people who log in: each created with a signup invite,
// listed, read (with this control's view of their failed logins), given
// roles and traits, deleted, or sent a new invite (which ends a login
// lockout).
type Users struct{ s *Service }

// Users returns the service's users.
func (s *Service) Users() Users { return Users{s} }

// InviteTTL is how long a signup or reset invite is valid.
const InviteTTL = time.Hour

func userView(u *projections.User) wire.User {
	return wire.User{Name: u.Name, Roles: slices.Clone(u.Roles), Traits: u.Traits, PasswordSet: u.PasswordSet,
		CreatedAt: u.CreatedAt, InviteExpires: u.InviteExpires}
}

// withLogin adds the login throttle's view of the user (this control's
// memory).
func (s *Service) withLogin(u wire.User) wire.User {
	u.FailedLogins, u.LockedUntil = s.throttle.state(u.Name, s.cfg.Clock.Now())
	return u
}

// reachWarnings says when u, as stored in st, can reach no database:
// its roles grant databases but allow no db user (the access role allows
// the db users of the db_users trait, and u has none).
func reachWarnings(st *projections.State, u schemas.User) []string {
	roles := access.NoDBUser(st, access.Identity{User: u.Name, Roles: u.Roles, Traits: u.Traits})
	if len(roles) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("user %s can reach no database: role %s allows no db user for it (access allows the db users "+
		"of the user's db_users trait, and %s has none); give some with `tollctl users update %s --db-users=NAME[,NAME]` (\"*\" for any)",
		u.Name, strings.Join(roles, ", "), u.Name, u.Name)}
}

func checkRoles(st *projections.State, roles []string) error {
	if len(roles) == 0 {
		return invalidf("a user needs at least one role (--roles=access)")
	}
	for _, r := range roles {
		if _, ok := st.Roles[r]; !ok {
			known := make([]string, 0, len(st.Roles))
			for n := range st.Roles {
				known = append(known, n)
			}
			sort.Strings(known)
			return invalidf("unknown role %q; existing roles: %v (create it with tollctl roles create -f role.yaml)", r, known)
		}
	}
	return nil
}

func validName(what, name string) error {
	if name == "" {
		return invalidf("%s name is empty", what)
	}
	if len(name) > 128 {
		return invalidf("%s name is longer than 128 bytes", what)
	}
	return nil
}

// Add creates a user and its signup invite.
func (us Users) Add(ctx context.Context, c Caller, u schemas.User) (wire.Invite, error) {
	s := us.s
	if err := validName("user", u.Name); err != nil {
		return wire.Invite{}, err
	}
	invite, hash := secret.NewInvite()
	expires := s.cfg.Clock.Now().Add(InviteTTL).UTC()
	var warnings []string
	_, err := s.change(ctx, c.Actor(), eventlog.KindUser, u.Name, schemas.TypeUserCreated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceUser, schemas.VerbCreate); err != nil {
			return nil, err
		}
		if _, ok := st.Users[u.Name]; ok {
			return nil, existsf("user %s already exists (tollctl users update or users reset)", u.Name)
		}
		if err := checkRoles(st, u.Roles); err != nil {
			return nil, err
		}
		warnings = reachWarnings(st, u)
		return schemas.UserCreated{User: u, InviteHash: hash, InviteExpires: expires}, nil
	})
	if err != nil {
		return wire.Invite{}, err
	}
	return wire.Invite{User: u.Name, Invite: invite, Expires: expires, Warnings: warnings}, nil
}

// List lists users.
func (us Users) List(c Caller) ([]wire.User, error) {
	s := us.s
	var (
		out []wire.User
		err error
	)
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceUser, schemas.VerbList); err != nil {
			return
		}
		for _, u := range st.Users {
			out = append(out, s.withLogin(userView(u)))
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Get returns one user.
func (us Users) Get(c Caller, name string) (wire.User, error) {
	s := us.s
	var (
		out wire.User
		err error
	)
	s.View(func(st *projections.State) {
		if c.Kind != CallerUser || c.Name != name {
			if err = authorizeIn(st, c, schemas.ResourceUser, schemas.VerbRead); err != nil {
				return
			}
		}
		u, ok := st.Users[name]
		if !ok {
			err = notFoundf("user %s not found (tollctl users ls)", name)
			return
		}
		out = s.withLogin(userView(u))
	})
	return out, err
}

// Update replaces a user's roles and traits.
func (us Users) Update(ctx context.Context, c Caller, u schemas.User) (wire.User, error) {
	s := us.s
	var warnings []string
	_, err := s.change(ctx, c.Actor(), eventlog.KindUser, u.Name, schemas.TypeUserUpdated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceUser, schemas.VerbUpdate); err != nil {
			return nil, err
		}
		old, ok := st.Users[u.Name]
		if !ok {
			return nil, notFoundf("user %s not found (tollctl users ls)", u.Name)
		}
		if u.Roles == nil {
			u.Roles = old.Roles
		}
		if u.Traits == nil {
			u.Traits = old.Traits
		}
		if err := checkRoles(st, u.Roles); err != nil {
			return nil, err
		}
		warnings = reachWarnings(st, u)
		return u, nil
	})
	if err != nil {
		return wire.User{}, err
	}
	out, err := us.Get(Caller{Kind: CallerUser, Name: u.Name}, u.Name)
	out.Warnings = warnings
	return out, err
}

// Rm deletes a user and its password.
func (us Users) Rm(ctx context.Context, c Caller, name string) error {
	s := us.s
	_, err := s.change(ctx, c.Actor(), eventlog.KindUser, name, schemas.TypeUserDeleted, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceUser, schemas.VerbDelete); err != nil {
			return nil, err
		}
		if _, ok := st.Users[name]; !ok {
			return nil, notFoundf("user %s not found (tollctl users ls)", name)
		}
		if name == AdminUser {
			return nil, invalidf("user %s is the local admin identity and cannot be removed", name)
		}
		return schemas.UserDeleted{Name: name}, nil
	})
	if err != nil {
		return err
	}
	return s.deletePassword(ctx, name)
}

// Reset issues a new invite to set a password and ends a login
// lockout of the user (the answer says until when it would have lasted).
func (us Users) Reset(ctx context.Context, c Caller, name string) (wire.Invite, error) {
	s := us.s
	invite, hash := secret.NewInvite()
	expires := s.cfg.Clock.Now().Add(InviteTTL).UTC()
	_, err := s.change(ctx, c.Actor(), eventlog.KindUser, name, schemas.TypeUserInviteCreated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceUser, schemas.VerbUpdate); err != nil {
			return nil, err
		}
		u, ok := st.Users[name]
		if !ok {
			return nil, notFoundf("user %s not found (tollctl users ls)", name)
		}
		if u.SSO != "" {
			return nil, invalidf("user %s logs in through single sign-on (connector %s) and has no password to reset", name, u.SSO)
		}
		return schemas.UserInviteCreated{Name: name, InviteHash: hash, InviteExpires: expires}, nil
	})
	if err != nil {
		return wire.Invite{}, err
	}
	cleared := s.throttle.clear(name, s.cfg.Clock.Now())
	if !cleared.IsZero() {
		s.log.Info().Str("user", name).Str("actor", c.Actor()).Msg("login lockout cleared by users reset")
	}
	return wire.Invite{User: name, Invite: invite, Expires: expires, LockoutCleared: cleared}, nil
}
