package projections

import (
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// New returns the empty state: no cluster, every map allocated.
func New() *State {
	return &State{
		CAs:            map[string]*CA{},
		Roles:          map[string]*Role{},
		Users:          map[string]*User{},
		Tokens:         map[string]*Token{},
		Agents:         map[string]*Agent{},
		Databases:      map[string]*Database{},
		Locks:          map[string]*Lock{},
		AccessRequests: map[string]*AccessRequest{},
		SSOConnectors:  map[string]*SSOConnector{},
		SubjectSeq:     map[string]uint64{},
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
//
// The state keeps strings of rec, including strings cut from rec.Event.Data
// (schemas.DecodeOwned): the caller must not modify Data afterwards.
// Records delivered by an eventlog.Reader never are.
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
	data, err := schemas.DecodeOwned(rec.Event)
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
// It dispatches on the event's type, not on the Go type of its data: types
// share Go types (role.created and role.updated are both schemas.Role).
func (s *State) apply(ev *eventlog.Event, data any) string {
	switch ev.Type {
	case schemas.TypeClusterCreated:
		return on(s.clusterCreated, ev, data)
	case schemas.TypeCACreated:
		return on(s.caCreated, ev, data)
	case schemas.TypeCARotationStarted:
		return on(s.caRotationStarted, ev, data)
	case schemas.TypeCARotationPhase:
		return on(s.caPhaseChanged, ev, data)
	case schemas.TypeCARotationCompleted:
		return on(s.caCompleted, ev, data)
	case schemas.TypeCARotationRolledBack:
		return on(s.caRolledBack, ev, data)
	case schemas.TypeRoleCreated:
		return on(s.roleCreated, ev, data)
	case schemas.TypeRoleUpdated:
		return on(s.roleUpdated, ev, data)
	case schemas.TypeRoleDeleted:
		return on(s.roleDeleted, ev, data)
	case schemas.TypeUserCreated:
		return on(s.userCreated, ev, data)
	case schemas.TypeUserUpdated:
		return on(s.userUpdated, ev, data)
	case schemas.TypeUserDeleted:
		return on(s.userDeleted, ev, data)
	case schemas.TypeUserPasswordSet:
		return on(s.userPasswordSet, ev, data)
	case schemas.TypeUserInviteCreated:
		return on(s.userInviteCreated, ev, data)
	case schemas.TypeUserMFAAdded:
		return on(s.userMFAAdded, ev, data)
	case schemas.TypeUserMFARemoved:
		return on(s.userMFARemoved, ev, data)
	case schemas.TypeTokenCreated:
		return on(s.tokenCreated, ev, data)
	case schemas.TypeTokenConsumed:
		return on(s.tokenConsumed, ev, data)
	case schemas.TypeTokenDeleted:
		return on(s.tokenDeleted, ev, data)
	case schemas.TypeAgentJoined:
		return on(s.agentJoined, ev, data)
	case schemas.TypeAgentUpdated:
		return on(s.agentUpdated, ev, data)
	case schemas.TypeDatabaseRegistered:
		return on(s.databaseRegistered, ev, data)
	case schemas.TypeDatabaseUpdated:
		return on(s.databaseUpdated, ev, data)
	case schemas.TypeDatabaseDeregistered:
		return on(s.databaseDeregistered, ev, data)
	case schemas.TypeLockCreated:
		return on(s.lockCreated, ev, data)
	case schemas.TypeLockDeleted:
		return on(s.lockDeleted, ev, data)
	case schemas.TypeAccessRequestCreated:
		return on(s.accessRequestCreated, ev, data)
	case schemas.TypeAccessRequestReviewed:
		return on(s.accessRequestReviewed, ev, data)
	case schemas.TypeAccessRequestApproved:
		return on(s.accessRequestApproved, ev, data)
	case schemas.TypeAccessRequestDenied:
		return on(s.accessRequestDenied, ev, data)
	case schemas.TypeAccessRequestDropped:
		return on(s.accessRequestDropped, ev, data)
	case schemas.TypeAccessRequestExpired:
		return on(s.accessRequestExpired, ev, data)
	case schemas.TypeSSOConnectorSaved:
		return on(s.ssoConnectorSaved, ev, data)
	case schemas.TypeSSOConnectorDeleted:
		return on(s.ssoConnectorDeleted, ev, data)
	case schemas.TypeControlHostCertIssued:
		// Recorded for audit verification (the key control's audit
		// checkpoints are checked with); no access decision depends on it.
		return ""
	}
	return ev.Type + " is not a control event"
}

// on calls fn with data as *T, the Go type schemas.Decode gives ev.Type's
// data (a mismatch would be a catalogue bug: it is reported, not panicked
// on).
//
// fn takes the event by value: a pointer passed to a function value
// escapes, which would move every applied record to the heap.
func on[T any](fn func(ev eventlog.Event, d *T) string, ev *eventlog.Event, data any) string {
	d, ok := data.(*T)
	if !ok {
		return fmt.Sprintf("%s data is %T, not %T", ev.Type, data, d)
	}
	return fn(*ev, d)
}

// shortHash shortens a token hash for messages (a hash is not a secret, but
// a short prefix reads better).
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
