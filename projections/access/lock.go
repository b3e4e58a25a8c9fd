package access

import (
	"slices"
	"time"

	"github.com/tollgate-db/tollgate/projections"
)

// LockFor returns the lock that blocks id from reaching db served by
// agentID at now, or nil. A lock blocks when it has not expired (no expiry,
// or now before it) and every field set in its target matches: user is
// id.User, role is one of id.Roles, database is db, agent is agentID. A
// lock with an empty target blocks nothing. Pass db "" (or agentID "") to
// ask about the identity regardless of database (or agent): a target field
// naming a database (agent) then does not match. With several matching
// locks, the one with the smallest id is returned.
func LockFor(s *projections.State, id Identity, db, agentID string, now time.Time) *projections.Lock {
	var best *projections.Lock
	for _, l := range s.Locks {
		if !lockActive(l, now) || !lockMatches(l, id, db, agentID) {
			continue
		}
		if best == nil || l.ID < best.ID {
			best = l
		}
	}
	return best
}

// SessionLockFor returns the active lock that ends session (the one with
// the smallest id), or nil.
func SessionLockFor(s *projections.State, session string, now time.Time) *projections.Lock {
	var best *projections.Lock
	for _, l := range s.Locks {
		if l.Target.Session == "" || l.Target.Session != session || !lockActive(l, now) {
			continue
		}
		if best == nil || l.ID < best.ID {
			best = l
		}
	}
	return best
}

func lockActive(l *projections.Lock, now time.Time) bool {
	return l.Expires.IsZero() || now.Before(l.Expires)
}

func lockMatches(l *projections.Lock, id Identity, db, agentID string) bool {
	t := l.Target
	if t.Session != "" { // one session's: SessionLockFor
		return false
	}
	if t.User == "" && t.Role == "" && t.Database == "" && t.Agent == "" {
		return false
	}
	if t.User != "" && t.User != id.User {
		return false
	}
	if t.Role != "" && !slices.Contains(id.Roles, t.Role) {
		return false
	}
	if t.Database != "" && t.Database != db {
		return false
	}
	if t.Agent != "" && t.Agent != agentID {
		return false
	}
	return true
}

// lockReason is the person-readable reason of a lock refusal.
func lockReason(l *projections.Lock) string {
	msg := "access is locked by lock " + l.ID
	if l.Message != "" {
		msg += ": " + l.Message
	}
	if !l.Expires.IsZero() {
		msg += " (until " + l.Expires.UTC().Format(time.RFC3339) + ")"
	}
	return msg
}
