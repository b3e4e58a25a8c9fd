package projections

import (
	"fmt"
	"slices"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// New returns the empty state: no cluster, every map allocated.
func New() *State {
	return &State{
		CAs:        map[string]*CA{},
		Roles:      map[string]*Role{},
		Users:      map[string]*User{},
		Tokens:     map[string]*Token{},
		Agents:     map[string]*Agent{},
		Databases:  map[string]*Database{},
		Locks:      map[string]*Lock{},
		SubjectSeq: map[string]uint64{},
	}
}

// Apply folds one control record into s. It is pure: the time of every
// change is the event's time.
//
// A record at or below LastSeq (a redelivery, or the overlap between a
// snapshot and its tail) is ignored and Apply returns nil.
//
// Otherwise LastSeq, LastTime and SubjectSeq[subject] always advance, even
// when the event cannot be applied, because they mirror the stream (the
// next append's expectation is the subject's last stream sequence whatever
// the event said). An event that cannot be applied leaves every entity
// unchanged and Apply returns an *ApplyError wrapping:
//   - ErrInvalidTransition: the event does not fit the state (see the
//     rules of each type below and in docs of ErrInvalidTransition);
//   - ErrBadEvent: its data does not decode;
//   - schemas.ErrUnknownType / schemas.ErrUnknownVersion: this binary does
//     not know the type or version.
//
// Because the outcome depends only on the state and the event, replaying
// the same log always yields byte-identical state, errors included.
func (s *State) Apply(rec eventlog.Record) error {
	if rec.StreamSeq != 0 && rec.StreamSeq <= s.LastSeq {
		return nil
	}
	ev := &rec.Event
	s.LastSeq = rec.StreamSeq
	s.LastTime = ev.Time
	if ev.Subject != "" {
		s.SubjectSeq[ev.Subject] = rec.StreamSeq
	}
	data, err := schemas.Decode(rec.Event)
	if err != nil {
		return &ApplyError{Seq: rec.StreamSeq, Type: ev.Type, Reason: err.Error(), Err: unwrapDecode(err)}
	}
	if reason := s.apply(ev, data); reason != "" {
		return &ApplyError{Seq: rec.StreamSeq, Type: ev.Type, Reason: reason, Err: ErrInvalidTransition}
	}
	return nil
}

// unwrapDecode keeps a schemas sentinel when there is one, else ErrBadEvent.
func unwrapDecode(err error) error {
	for _, target := range []error{schemas.ErrUnknownType, schemas.ErrUnknownVersion} {
		if isErr(err, target) {
			return fmt.Errorf("%w: %w", target, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrBadEvent, err)
}

// apply changes s by one decoded event and returns "" or why it could not.
func (s *State) apply(ev *eventlog.Event, data any) string {
	switch d := data.(type) {
	case *schemas.ClusterCreated:
		if s.Cluster.Name != "" {
			return "cluster " + s.Cluster.Name + " already exists"
		}
		s.Cluster = Cluster{Name: d.Name, Version: d.Version, CreatedAt: ev.Time}
	case *schemas.CACreated:
		return s.caCreated(d)
	case *schemas.CARotationStarted:
		return s.caRotationStarted(d)
	case *schemas.CARotationPhaseChanged:
		return s.caPhaseChanged(d)
	case *schemas.CARotationCompleted:
		return s.caCompleted(d)
	case *schemas.CARotationRolledBack:
		return s.caRolledBack(d)

	case *schemas.Role:
		// role.created and role.updated share the Go type.
		old, ok := s.Roles[d.Name]
		if ev.Type == schemas.TypeRoleCreated {
			if ok {
				return "role " + d.Name + " already exists"
			}
			s.Roles[d.Name] = &Role{Role: *d, CreatedAt: ev.Time, UpdatedAt: ev.Time}
			return ""
		}
		if !ok {
			return "role " + d.Name + " does not exist"
		}
		s.Roles[d.Name] = &Role{Role: *d, CreatedAt: old.CreatedAt, UpdatedAt: ev.Time}
	case *schemas.RoleDeleted:
		if _, ok := s.Roles[d.Name]; !ok {
			return "role " + d.Name + " does not exist"
		}
		delete(s.Roles, d.Name)

	case *schemas.UserCreated:
		if _, ok := s.Users[d.Name]; ok {
			return "user " + d.Name + " already exists"
		}
		s.Users[d.Name] = &User{User: d.User, CreatedAt: ev.Time, UpdatedAt: ev.Time,
			InviteHash: d.InviteHash, InviteExpires: d.InviteExpires}
	case *schemas.User:
		// user.updated
		old, ok := s.Users[d.Name]
		if !ok {
			return "user " + d.Name + " does not exist"
		}
		u := *old
		u.User = *d
		u.UpdatedAt = ev.Time
		s.Users[d.Name] = &u
	case *schemas.UserDeleted:
		if _, ok := s.Users[d.Name]; !ok {
			return "user " + d.Name + " does not exist"
		}
		delete(s.Users, d.Name)
	case *schemas.UserPasswordSet:
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
	case *schemas.UserInviteCreated:
		old, ok := s.Users[d.Name]
		if !ok {
			return "user " + d.Name + " does not exist"
		}
		u := *old
		u.InviteHash = d.InviteHash
		u.InviteExpires = d.InviteExpires
		u.UpdatedAt = ev.Time
		s.Users[d.Name] = &u

	case *schemas.TokenCreated:
		if _, ok := s.Tokens[d.Hash]; ok {
			return "token " + shortHash(d.Hash) + " already exists"
		}
		s.Tokens[d.Hash] = &Token{TokenCreated: *d, CreatedAt: ev.Time}
	case *schemas.TokenConsumed:
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
	case *schemas.TokenDeleted:
		if _, ok := s.Tokens[d.Hash]; !ok {
			return "token " + shortHash(d.Hash) + " does not exist"
		}
		delete(s.Tokens, d.Hash)

	case *schemas.AgentJoined:
		// A re-join (e.g. an agent that lost its identity) replaces the
		// registration.
		s.Agents[d.ID] = &Agent{Agent: d.Agent, JoinedAt: ev.Time, LastSeen: ev.Time, LastEvent: ev.Type}
	case *schemas.Agent:
		// agent.updated
		old, ok := s.Agents[d.ID]
		if !ok {
			return "agent " + d.ID + " has not joined"
		}
		s.Agents[d.ID] = &Agent{Agent: *d, JoinedAt: old.JoinedAt, LastSeen: ev.Time, LastEvent: ev.Type}

	case *schemas.Database:
		// database.registered and database.updated share the Go type.
		old, ok := s.Databases[d.Name]
		if ev.Type == schemas.TypeDatabaseRegistered {
			if ok {
				return "database " + d.Name + " is already registered"
			}
			s.Databases[d.Name] = &Database{Database: *d, RegisteredAt: ev.Time}
			s.agentSeen(d.AgentID, ev)
			return ""
		}
		if !ok {
			return "database " + d.Name + " is not registered"
		}
		s.Databases[d.Name] = &Database{Database: *d, RegisteredAt: old.RegisteredAt}
		s.agentSeen(d.AgentID, ev)
	case *schemas.DatabaseDeregistered:
		if _, ok := s.Databases[d.Name]; !ok {
			return "database " + d.Name + " is not registered"
		}
		delete(s.Databases, d.Name)

	case *schemas.LockCreated:
		if _, ok := s.Locks[d.ID]; ok {
			return "lock " + d.ID + " already exists"
		}
		s.Locks[d.ID] = &Lock{LockCreated: *d, CreatedAt: ev.Time, CreatedBy: ev.Actor}
	case *schemas.LockDeleted:
		if _, ok := s.Locks[d.ID]; !ok {
			return "lock " + d.ID + " does not exist"
		}
		delete(s.Locks, d.ID)

	case *schemas.ControlHostCertIssued:
		// Recorded for audit verification (the key control's audit
		// checkpoints are checked with); no access decision depends on it.
	default:
		return ev.Type + " is not a control event"
	}
	return ""
}

// agentSeen records ev as the latest control event of agent id (a
// database of its config registered or updated); the agent is replaced,
// not changed in place, so that earlier views of the state stay as they
// were.
func (s *State) agentSeen(id string, ev *eventlog.Event) {
	a, ok := s.Agents[id]
	if id == "" || !ok {
		return
	}
	cp := *a
	cp.LastSeen, cp.LastEvent = ev.Time, ev.Type
	s.Agents[id] = &cp
}

// shortHash shortens a token hash for messages (a hash is not a secret, but
// a short prefix reads better).
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
