package projections

import (
	"slices"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// How each control event other than a CA's changes its entity (Apply
// dispatches to these by type; ca.go has the CA rotation rules). Each
// returns "" or why the event does not fit the state; the time of a change
// is the event's time.

func (s *State) clusterCreated(ev eventlog.Event, d *schemas.ClusterCreated) string {
	if s.Cluster.Name != "" {
		return "cluster " + s.Cluster.Name + " already exists"
	}
	s.Cluster = Cluster{Name: d.Name, Version: d.Version, CreatedAt: ev.Time}
	return ""
}

func (s *State) roleCreated(ev eventlog.Event, d *schemas.RoleCreated) string {
	if _, ok := s.Roles[d.Name]; ok {
		return "role " + d.Name + " already exists"
	}
	s.Roles[d.Name] = &Role{Role: *d, CreatedAt: ev.Time, UpdatedAt: ev.Time}
	return ""
}

func (s *State) roleUpdated(ev eventlog.Event, d *schemas.RoleUpdated) string {
	old, ok := s.Roles[d.Name]
	if !ok {
		return "role " + d.Name + " does not exist"
	}
	s.Roles[d.Name] = &Role{Role: *d, CreatedAt: old.CreatedAt, UpdatedAt: ev.Time}
	return ""
}

func (s *State) roleDeleted(_ eventlog.Event, d *schemas.RoleDeleted) string {
	if _, ok := s.Roles[d.Name]; !ok {
		return "role " + d.Name + " does not exist"
	}
	delete(s.Roles, d.Name)
	return ""
}

func (s *State) userCreated(ev eventlog.Event, d *schemas.UserCreated) string {
	if _, ok := s.Users[d.Name]; ok {
		return "user " + d.Name + " already exists"
	}
	s.Users[d.Name] = &User{User: d.User, CreatedAt: ev.Time, UpdatedAt: ev.Time,
		InviteHash: d.InviteHash, InviteExpires: d.InviteExpires, SSO: d.SSO}
	return ""
}

func (s *State) userUpdated(ev eventlog.Event, d *schemas.UserUpdated) string {
	old, ok := s.Users[d.Name]
	if !ok {
		return "user " + d.Name + " does not exist"
	}
	u := *old
	u.User = *d
	u.UpdatedAt = ev.Time
	s.Users[d.Name] = &u
	return ""
}

func (s *State) userDeleted(_ eventlog.Event, d *schemas.UserDeleted) string {
	if _, ok := s.Users[d.Name]; !ok {
		return "user " + d.Name + " does not exist"
	}
	delete(s.Users, d.Name)
	return ""
}

func (s *State) userPasswordSet(ev eventlog.Event, d *schemas.UserPasswordSet) string {
	old, ok := s.Users[d.Name]
	if !ok {
		return "user " + d.Name + " does not exist"
	}
	u := *old
	u.PasswordSet = true
	u.UpdatedAt = ev.Time
	if d.InviteHash != "" && d.InviteHash == u.InviteHash {
		u.InviteHash = ""
		u.InviteExpires = zeroTime
	}
	s.Users[d.Name] = &u
	return ""
}

func (s *State) userMFAAdded(ev eventlog.Event, d *schemas.UserMFAAdded) string {
	old, ok := s.Users[d.Name]
	if !ok {
		return "user " + d.Name + " does not exist"
	}
	u := *old
	u.MFA, u.UpdatedAt = d.Type, ev.Time
	s.Users[d.Name] = &u
	return ""
}

func (s *State) userMFARemoved(ev eventlog.Event, d *schemas.UserMFARemoved) string {
	old, ok := s.Users[d.Name]
	if !ok {
		return "user " + d.Name + " does not exist"
	}
	if old.MFA == "" {
		return "user " + d.Name + " has no second factor"
	}
	u := *old
	u.MFA, u.UpdatedAt = "", ev.Time
	s.Users[d.Name] = &u
	return ""
}

func (s *State) userInviteCreated(ev eventlog.Event, d *schemas.UserInviteCreated) string {
	old, ok := s.Users[d.Name]
	if !ok {
		return "user " + d.Name + " does not exist"
	}
	u := *old
	u.InviteHash = d.InviteHash
	u.InviteExpires = d.InviteExpires
	u.UpdatedAt = ev.Time
	s.Users[d.Name] = &u
	return ""
}

func (s *State) tokenCreated(ev eventlog.Event, d *schemas.TokenCreated) string {
	if _, ok := s.Tokens[d.Hash]; ok {
		return "token " + shortHash(d.Hash) + " already exists"
	}
	s.Tokens[d.Hash] = &Token{TokenCreated: *d, CreatedAt: ev.Time}
	return ""
}

func (s *State) tokenConsumed(_ eventlog.Event, d *schemas.TokenConsumed) string {
	old, ok := s.Tokens[d.Hash]
	if !ok {
		return "token " + shortHash(d.Hash) + " does not exist"
	}
	if old.Consumed && !old.Reusable {
		return "token " + shortHash(d.Hash) + " is single-use and already consumed"
	}
	t := *old
	t.Consumed = true
	t.ConsumedBy = append(slices.Clip(old.ConsumedBy), d.AgentID)
	s.Tokens[d.Hash] = &t
	return ""
}

func (s *State) tokenDeleted(_ eventlog.Event, d *schemas.TokenDeleted) string {
	if _, ok := s.Tokens[d.Hash]; !ok {
		return "token " + shortHash(d.Hash) + " does not exist"
	}
	delete(s.Tokens, d.Hash)
	return ""
}

// agentJoined registers the agent; a re-join (e.g. an agent that lost its
// identity) replaces the registration.
func (s *State) agentJoined(ev eventlog.Event, d *schemas.AgentJoined) string {
	s.Agents[d.ID] = &Agent{Agent: d.Agent, JoinedAt: ev.Time, LastSeen: ev.Time, LastEvent: ev.Type}
	return ""
}

func (s *State) agentUpdated(ev eventlog.Event, d *schemas.AgentUpdated) string {
	old, ok := s.Agents[d.ID]
	if !ok {
		return "agent " + d.ID + " has not joined"
	}
	s.Agents[d.ID] = &Agent{Agent: *d, JoinedAt: old.JoinedAt, LastSeen: ev.Time, LastEvent: ev.Type}
	return ""
}

func (s *State) databaseRegistered(ev eventlog.Event, d *schemas.DatabaseRegistered) string {
	if _, ok := s.Databases[d.Name]; ok {
		return "database " + d.Name + " is already registered"
	}
	s.Databases[d.Name] = &Database{Database: *d, RegisteredAt: ev.Time}
	s.agentSeen(d.AgentID, ev)
	return ""
}

func (s *State) databaseUpdated(ev eventlog.Event, d *schemas.DatabaseUpdated) string {
	old, ok := s.Databases[d.Name]
	if !ok {
		return "database " + d.Name + " is not registered"
	}
	s.Databases[d.Name] = &Database{Database: *d, RegisteredAt: old.RegisteredAt}
	s.agentSeen(d.AgentID, ev)
	return ""
}

func (s *State) databaseDeregistered(_ eventlog.Event, d *schemas.DatabaseDeregistered) string {
	if _, ok := s.Databases[d.Name]; !ok {
		return "database " + d.Name + " is not registered"
	}
	delete(s.Databases, d.Name)
	return ""
}

func (s *State) lockCreated(ev eventlog.Event, d *schemas.LockCreated) string {
	if _, ok := s.Locks[d.ID]; ok {
		return "lock " + d.ID + " already exists"
	}
	s.Locks[d.ID] = &Lock{LockCreated: *d, CreatedAt: ev.Time, CreatedBy: ev.Actor}
	return ""
}

func (s *State) lockDeleted(_ eventlog.Event, d *schemas.LockDeleted) string {
	if _, ok := s.Locks[d.ID]; !ok {
		return "lock " + d.ID + " does not exist"
	}
	delete(s.Locks, d.ID)
	return ""
}

// agentSeen records ev as the latest control event of agent id (a
// database of its config registered or updated); the agent is replaced,
// not changed in place, so that earlier views of the state stay as they
// were.
func (s *State) agentSeen(id string, ev eventlog.Event) {
	a, ok := s.Agents[id]
	if id == "" || !ok {
		return
	}
	cp := *a
	cp.LastSeen, cp.LastEvent = ev.Time, ev.Type
	s.Agents[id] = &cp
}
