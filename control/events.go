package control

import (
	"context"
	"strings"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// MaxEventsPage bounds one events answer.
const MaxEventsPage = 1000

// Events reads a page of the control or audit stream (tollctl events
// ls|tail); auditors and editors only (resource event, verb list).
// LastSeq in the answer is where the next page starts after.
func (aq Audit) Events(ctx context.Context, c Caller, q wire.EventsQuery) (wire.Events, error) {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceEvent, schemas.VerbList); err != nil {
		return wire.Events{}, err
	}
	var st eventlog.Stream
	switch strings.ToLower(q.Stream) {
	case "", "control":
		st = s.cfg.Control
	case "audit":
		st = s.cfg.Audit
	default:
		return wire.Events{}, invalidf("stream %q: use control or audit", q.Stream)
	}
	if q.Limit <= 0 || q.Limit > MaxEventsPage {
		q.Limit = MaxEventsPage
	}
	query := eventlog.Query{FromSeq: q.FromSeq, FromTime: q.Since}
	if q.Type != "" && st == s.cfg.Audit {
		query.Subjects = []string{eventlog.AuditFilter("", "", "", q.Type)}
	}
	out := wire.Events{Events: []wire.Event{}, LastSeq: q.FromSeq}
	if out.LastSeq > 0 {
		out.LastSeq--
	}
	err := st.Read(ctx, query, func(r eventlog.Record) error {
		out.LastSeq = r.StreamSeq
		if q.Type != "" && r.Event.Type != q.Type {
			return nil
		}
		out.Events = append(out.Events, wire.Event{Seq: r.StreamSeq, Event: r.Event})
		if len(out.Events) >= q.Limit {
			return errPageFull
		}
		return nil
	})
	if err != nil && err != errPageFull {
		return wire.Events{}, err
	}
	return out, nil
}

var errPageFull = errorString("page full")

type errorString string

func (e errorString) Error() string { return string(e) }
