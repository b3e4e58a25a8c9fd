package control

import (
	"context"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Locks refuse access to a user, role, database or agent until they
// expire or are deleted.
type Locks struct{ s *Service }

// Locks returns the service's locks.
func (s *Service) Locks() Locks { return Locks{s} }

// Add creates a lock. TTL (or Expires) bounds it; neither means
// until unlocked.
func (ls Locks) Add(ctx context.Context, c Caller, l wire.Lock) (wire.Lock, error) {
	s := ls.s
	t := l.Target
	if t.User == "" && t.Role == "" && t.Database == "" && t.Agent == "" && t.Session == "" {
		return wire.Lock{}, invalidf("a lock needs a target: --user, --role, --db, --agent or --session")
	}
	if t.Session != "" && (t.User != "" || t.Role != "" || t.Database != "" || t.Agent != "") {
		return wire.Lock{}, invalidf("a session lock ends that one session: give --session alone")
	}
	if l.TTL < 0 {
		return wire.Lock{}, invalidf("lock ttl %s is negative", l.TTL)
	}
	now := s.cfg.Clock.Now().UTC()
	if l.TTL > 0 {
		l.Expires = now.Add(l.TTL)
	}
	if !l.Expires.IsZero() && !l.Expires.After(now) {
		return wire.Lock{}, invalidf("lock expiry %s is in the past", l.Expires.Format(time.RFC3339))
	}
	id := s.builder.IDs.NewID(now)
	data := schemas.LockCreated{ID: id, Target: t, Message: l.Message, Expires: l.Expires}
	_, err := s.change(ctx, c.Actor(), eventlog.KindLock, id, schemas.TypeLockCreated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceLock, schemas.VerbCreate); err != nil {
			return nil, err
		}
		return data, nil
	})
	if err != nil {
		return wire.Lock{}, err
	}
	var out wire.Lock
	s.View(func(st *projections.State) {
		if lk, ok := st.Locks[id]; ok {
			out = wire.Lock{LockCreated: lk.LockCreated, CreatedAt: lk.CreatedAt, CreatedBy: lk.CreatedBy}
		} else {
			out = wire.Lock{LockCreated: data}
		}
	})
	return out, nil
}

// List lists locks that have not expired.
func (ls Locks) List(c Caller) ([]wire.Lock, error) {
	s := ls.s
	var (
		out []wire.Lock
		err error
	)
	now := s.cfg.Clock.Now()
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceLock, schemas.VerbList); err != nil {
			return
		}
		for _, lk := range st.Locks {
			if !lk.Expires.IsZero() && !now.Before(lk.Expires) {
				continue
			}
			out = append(out, wire.Lock{LockCreated: lk.LockCreated, CreatedAt: lk.CreatedAt, CreatedBy: lk.CreatedBy})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// Rm deletes a lock.
func (ls Locks) Rm(ctx context.Context, c Caller, id string) error {
	s := ls.s
	_, err := s.change(ctx, c.Actor(), eventlog.KindLock, id, schemas.TypeLockDeleted, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceLock, schemas.VerbDelete); err != nil {
			return nil, err
		}
		if _, ok := st.Locks[id]; !ok {
			return nil, notFoundf("lock %s not found (tollctl locks ls)", id)
		}
		return schemas.LockDeleted{ID: id}, nil
	})
	return err
}
