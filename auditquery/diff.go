package auditquery

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
)

// AccessDiff is what changed in who could reach what between From and To,
// from replaying the control stream: each line a change of a role, user,
// lock or database, or of a user's reach (a database or db user gained or
// lost, through roles or an access request's grant).
type AccessDiff struct {
	From, To time.Time
	// Changes, sorted by kind then name.
	Changes []Change
	// LastSeq is the last control sequence applied at To.
	LastSeq uint64
}

// Change is one difference.
type Change struct {
	Kind   string `json:"kind"`   // role, user, lock, database, reach
	Name   string `json:"name"`   // the role, user, lock id, database, or user for reach
	What   string `json:"what"`   // added, removed, changed, gained, lost
	Detail string `json:"detail"` // in words
}

// Diff replays the control stream to from and to and compares the two
// states.
func Diff(ctx context.Context, control eventlog.Reader, from, to time.Time) (AccessDiff, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return AccessDiff{}, errors.New("access diff: two times, the second not before the first, are required")
	}
	st := projections.New()
	var before *projections.State
	snap := func() error {
		if before != nil {
			return nil
		}
		var err error
		before, err = st.Clone()
		return err
	}
	err := control.Read(ctx, eventlog.Query{ToTime: to}, func(r eventlog.Record) error {
		if r.Event.Time.After(to) {
			return nil
		}
		if r.Event.Time.After(from) {
			if err := snap(); err != nil {
				return err
			}
		}
		if err := st.Apply(r); err != nil {
			var ae *projections.ApplyError
			if !errors.As(err, &ae) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return AccessDiff{}, fmt.Errorf("access diff: replay control: %w", err)
	}
	if err := snap(); err != nil {
		return AccessDiff{}, err
	}
	d := AccessDiff{From: from, To: to, LastSeq: st.LastSeq}
	d.Changes = append(d.Changes, mapDiff("role", before.Roles, st.Roles, func(r *projections.Role) any { return r.Role })...)
	d.Changes = append(d.Changes, mapDiff("user", before.Users, st.Users, func(u *projections.User) any { return u.User })...)
	d.Changes = append(d.Changes, mapDiff("database", before.Databases, st.Databases, func(x *projections.Database) any { return x.Database })...)
	d.Changes = append(d.Changes, lockDiff(before, from, st, to)...)
	d.Changes = append(d.Changes, reachDiff(before, from, st, to)...)
	return d, nil
}

// mapDiff lists the entities added, removed or changed (their value as
// view gives it) between two maps.
func mapDiff[T any](kind string, a, b map[string]T, view func(T) any) []Change {
	var out []Change
	for _, n := range sortedKeys(a, b) {
		x, inA := a[n]
		y, inB := b[n]
		switch {
		case inA && !inB:
			out = append(out, Change{Kind: kind, Name: n, What: "removed", Detail: kind + " " + n + " removed"})
		case !inA && inB:
			out = append(out, Change{Kind: kind, Name: n, What: "added", Detail: kind + " " + n + " added"})
		case !reflect.DeepEqual(view(x), view(y)):
			out = append(out, Change{Kind: kind, Name: n, What: "changed", Detail: kind + " " + n + " changed"})
		}
	}
	return out
}

func sortedKeys[T any](a, b map[string]T) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// lockDiff lists the locks in force at one time and not the other.
func lockDiff(a *projections.State, from time.Time, b *projections.State, to time.Time) []Change {
	inForce := func(st *projections.State, t time.Time) map[string]*projections.Lock {
		m := map[string]*projections.Lock{}
		for id, l := range st.Locks {
			if l.Expires.IsZero() || t.Before(l.Expires) {
				m[id] = l
			}
		}
		return m
	}
	la, lb := inForce(a, from), inForce(b, to)
	var out []Change
	for _, id := range sortedKeys(la, lb) {
		_, inA := la[id]
		l, inB := lb[id]
		switch {
		case inA && !inB:
			out = append(out, Change{Kind: "lock", Name: id, What: "removed", Detail: "lock " + id + " lifted or expired"})
		case !inA && inB:
			out = append(out, Change{Kind: "lock", Name: id, What: "added", Detail: fmt.Sprintf("lock %s on %s: %s", id, lockTarget(l), l.Message)})
		}
	}
	return out
}

func lockTarget(l *projections.Lock) string {
	var parts []string
	for _, p := range [][2]string{{"user", l.Target.User}, {"role", l.Target.Role}, {"database", l.Target.Database}, {"agent", l.Target.Agent}, {"session", l.Target.Session}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	return strings.Join(parts, ", ")
}

// reachDiff lists, per user, the databases and db users gained or lost.
func reachDiff(a *projections.State, from time.Time, b *projections.State, to time.Time) []Change {
	reach := func(st *projections.State, user string, t time.Time) map[string]access.DatabaseAccess {
		m := map[string]access.DatabaseAccess{}
		id, ok := access.IdentityFor(st, user, t)
		if !ok {
			return m
		}
		for _, da := range access.Reachable(st, id, t) {
			m[da.Database.Name] = da
		}
		return m
	}
	var out []Change
	for _, u := range sortedKeys(a.Users, b.Users) {
		ra, rb := reach(a, u, from), reach(b, u, to)
		for _, db := range sortedKeys(ra, rb) {
			x, inA := ra[db]
			y, inB := rb[db]
			switch {
			case inA && !inB:
				out = append(out, Change{Kind: "reach", Name: u, What: "lost", Detail: fmt.Sprintf("%s can no longer reach %s", u, db)})
			case !inA && inB:
				out = append(out, Change{Kind: "reach", Name: u, What: "gained", Detail: fmt.Sprintf("%s can reach %s as %s (roles %s)",
					u, db, strings.Join(y.DBUsers, ","), strings.Join(y.Roles, ","))})
			case !slices.Equal(x.DBUsers, y.DBUsers) || !slices.Equal(x.DBNames, y.DBNames):
				out = append(out, Change{Kind: "reach", Name: u, What: "changed", Detail: fmt.Sprintf("%s on %s: db users %s → %s",
					u, db, strings.Join(x.DBUsers, ","), strings.Join(y.DBUsers, ","))})
			}
		}
	}
	return out
}
