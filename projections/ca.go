package projections

import (
	"errors"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

var zeroTime time.Time

func isErr(err, target error) bool { return errors.Is(err, target) }

// nextPhase is the only phase a ca.rotation.phase_changed may move to from
// each rotation phase. Leaving update_servers is ca.rotation.completed.
func nextPhase(phase string) string {
	switch phase {
	case schemas.PhaseInit:
		return schemas.PhaseUpdateClients
	case schemas.PhaseUpdateClients:
		return schemas.PhaseUpdateServers
	}
	return ""
}

// SigningKey is the key that signs new certificates in the current phase:
// the active key in standby and init, the new key from update_clients on
// (clients get certs from the new key while both keys are trusted).
func (c *CA) SigningKey() CAKey {
	if c.Next != nil && (c.Phase == schemas.PhaseUpdateClients || c.Phase == schemas.PhaseUpdateServers) {
		return *c.Next
	}
	return c.Active
}

// Rotating tells whether a rotation is in progress.
func (c *CA) Rotating() bool { return c.Phase != schemas.PhaseStandby }

// Rotation rules (DESIGN §4), one event per step:
//
//	ca.created                standby         trusted: active
//	ca.rotation.started       standby → init  trusted: active + next
//	ca.rotation.phase_changed init → update_clients → update_servers
//	                                          trusted: active + next
//	ca.rotation.completed     update_servers → standby; next becomes active
//	                                          trusted: new only
//	ca.rotation.rolled_back   init | update_clients | update_servers → standby
//	                                          trusted: old only
//
// Anything else is ErrInvalidTransition.
func (s *State) caCreated(_ eventlog.Event, d *schemas.CACreated) string {
	if _, ok := s.CAs[d.CAType]; ok {
		return "CA " + d.CAType + " already exists"
	}
	key := CAKey{KeyID: d.KeyID, KeyAlg: d.KeyAlg, CertPEM: d.CertPEM}
	s.CAs[d.CAType] = &CA{Type: d.CAType, Active: key, Phase: schemas.PhaseStandby, Trusted: []string{key.CertPEM}}
	return ""
}

func (s *State) caRotationStarted(_ eventlog.Event, d *schemas.CARotationStarted) string {
	old, ok := s.CAs[d.CAType]
	if !ok {
		return "CA " + d.CAType + " does not exist"
	}
	if old.Phase != schemas.PhaseStandby {
		return "CA " + d.CAType + " is already rotating (phase " + old.Phase + ")"
	}
	next := CAKey{KeyID: d.KeyID, KeyAlg: d.KeyAlg, CertPEM: d.CertPEM}
	s.CAs[d.CAType] = &CA{Type: old.Type, Active: old.Active, Next: &next, Phase: schemas.PhaseInit,
		Trusted: []string{old.Active.CertPEM, next.CertPEM}}
	return ""
}

func (s *State) caPhaseChanged(_ eventlog.Event, d *schemas.CARotationPhaseChanged) string {
	old, ok := s.CAs[d.CAType]
	if !ok {
		return "CA " + d.CAType + " does not exist"
	}
	want := nextPhase(old.Phase)
	if want == "" || d.Phase != want {
		return "CA " + d.CAType + " cannot move from phase " + old.Phase + " to " + d.Phase
	}
	c := *old
	c.Phase = d.Phase
	s.CAs[d.CAType] = &c
	return ""
}

func (s *State) caCompleted(_ eventlog.Event, d *schemas.CARotationCompleted) string {
	old, ok := s.CAs[d.CAType]
	if !ok {
		return "CA " + d.CAType + " does not exist"
	}
	if old.Phase != schemas.PhaseUpdateServers || old.Next == nil {
		return "CA " + d.CAType + " can complete a rotation only from phase update_servers (it is in " + old.Phase + ")"
	}
	s.CAs[d.CAType] = &CA{Type: old.Type, Active: *old.Next, Phase: schemas.PhaseStandby, Trusted: []string{old.Next.CertPEM}}
	return ""
}

func (s *State) caRolledBack(_ eventlog.Event, d *schemas.CARotationRolledBack) string {
	old, ok := s.CAs[d.CAType]
	if !ok {
		return "CA " + d.CAType + " does not exist"
	}
	if old.Phase == schemas.PhaseStandby {
		return "CA " + d.CAType + " is not rotating"
	}
	s.CAs[d.CAType] = &CA{Type: old.Type, Active: old.Active, Phase: schemas.PhaseStandby, Trusted: []string{old.Active.CertPEM}}
	return ""
}
