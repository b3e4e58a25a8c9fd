package auditquery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
)

// AccessResult is what a user could reach at a moment.
type AccessResult struct {
	At   time.Time
	User string
	// Exists is false when the user did not exist at At.
	Exists bool
	// Roles the user held at At, its own and granted.
	Roles []string
	// Grants are the roles of Roles held through access requests at At:
	// role → the request and the grant's end.
	Grants map[string]access.Grant `json:",omitempty"`
	// Databases reachable at At (only DB when one was asked), with the
	// granting roles.
	Databases []access.DatabaseAccess
	// LastSeq is the last control sequence applied; Rejected counts
	// events the projection refused (kept as they are in the log).
	LastSeq  uint64
	Rejected int
}

// AccessAt replays the control stream up to t into a fresh state and lists
// what user could reach then (only database db when db is not empty).
func AccessAt(ctx context.Context, control eventlog.Reader, t time.Time, user, db string) (AccessResult, error) {
	if t.IsZero() {
		return AccessResult{}, errors.New("access at: a time is required")
	}
	res := AccessResult{At: t, User: user}
	st := projections.New()
	err := control.Read(ctx, eventlog.Query{ToTime: t}, func(r eventlog.Record) error {
		if r.Event.Time.After(t) {
			return nil
		}
		if err := st.Apply(r); err != nil {
			var ae *projections.ApplyError
			if !errors.As(err, &ae) {
				return err
			}
			res.Rejected++
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("access at %s: replay control: %w", t.Format(time.RFC3339), err)
	}
	res.LastSeq = st.LastSeq
	id, ok := access.IdentityFor(st, user, t)
	if !ok {
		return res, nil
	}
	res.Exists, res.Roles, res.Grants = true, id.Roles, id.Grants
	for _, a := range access.Reachable(st, id, t) {
		if db == "" || a.Database.Name == db {
			res.Databases = append(res.Databases, a)
		}
	}
	return res, nil
}
