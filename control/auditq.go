package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Audit answers the auditors' questions through auditquery (search,
// session transcripts, access at a past time, verify and its anchors) and
// reads pages of either stream (events.go).
type Audit struct{ s *Service }

// Audit returns the service's audit.
func (s *Service) Audit() Audit { return Audit{s} }

// MaxAuditSearch bounds one audit search answer.
const MaxAuditSearch = 10000

// Search returns audit events by user, database, session, type and
// time (auditquery.Search); it needs the audit list right.
func (aq Audit) Search(ctx context.Context, c Caller, q wire.AuditSearch) (wire.AuditResults, error) {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbList); err != nil {
		return wire.AuditResults{}, err
	}
	if q.Limit <= 0 {
		q.Limit = auditquery.DefaultLimit
	}
	// A larger page is cut to the bound; More and Cursor say where the
	// rest starts, so nothing is cut off unseen.
	q.Limit = min(q.Limit, MaxAuditSearch)
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return wire.AuditResults{}, invalidf("the end of the search (--until) is before its start (--since)")
	}
	res, err := auditquery.Search(ctx, s.cfg.Audit, auditquery.Filter{User: q.User, DB: q.DB, Session: q.Session, Types: q.Types,
		From: q.From, To: q.To, After: q.After, Limit: q.Limit})
	if err != nil {
		return wire.AuditResults{}, err
	}
	out := wire.AuditResults{Events: make([]wire.Event, 0, len(res.Records)), More: res.More, Cursor: res.Cursor()}
	for _, r := range res.Records {
		out.Events = append(out.Events, wire.Event{Seq: r.StreamSeq, Event: r.Event})
	}
	return out, nil
}

// maxPrefixMatches bounds the sessions an ambiguous prefix's error lists.
const maxPrefixMatches = 10

// Session returns one session's transcript; it needs the audit read
// right. id is a session id or a prefix of one that no other session
// shares (the demo and tollctl audit search print short ids); an
// ambiguous prefix is an error listing the sessions it matches.
func (aq Audit) Session(ctx context.Context, c Caller, id string) (auditquery.Transcript, error) {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbRead); err != nil {
		return auditquery.Transcript{}, err
	}
	t, err := auditquery.Session(ctx, s.cfg.Audit, id)
	if !errors.Is(err, auditquery.ErrNoSession) {
		return t, err
	}
	matches, n, merr := auditquery.SessionsByPrefix(ctx, s.cfg.Audit, id, maxPrefixMatches)
	switch {
	case merr != nil:
		return t, merr
	case n == 1:
		return auditquery.Session(ctx, s.cfg.Audit, matches[0].ID)
	case n > 1:
		lines := make([]string, len(matches))
		for i, m := range matches {
			what := "started"
			if m.Rejected {
				what = "refused"
			}
			lines[i] = fmt.Sprintf("  %s  %s by %s on %s at %s", m.ID, what, m.User, m.Database, m.At.UTC().Format(time.RFC3339))
		}
		more := ""
		if n > len(matches) {
			more = fmt.Sprintf("\n  … and %d more", n-len(matches))
		}
		return t, invalidf("session id prefix %s is ambiguous: %d sessions start with it; give more characters:\n%s%s",
			id, n, strings.Join(lines, "\n"), more)
	}
	return t, notFoundf("session %s: no audit event has it and no session id starts with it (find sessions with tollctl audit search --type=session.started)", id)
}

// AccessAt replays the control stream up to a moment and says what a user
// could reach then; it needs the audit read right.
func (aq Audit) AccessAt(ctx context.Context, c Caller, q wire.AccessAt) (auditquery.AccessResult, error) {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbRead); err != nil {
		return auditquery.AccessResult{}, err
	}
	if q.User == "" {
		return auditquery.AccessResult{}, invalidf("--user is required")
	}
	if q.At.IsZero() {
		return auditquery.AccessResult{}, invalidf("a time is required (RFC 3339, e.g. 2025-01-02T15:04:05Z)")
	}
	return auditquery.AccessAt(ctx, s.cfg.Control, q.At, q.User, q.DB)
}

// FollowSessions calls fn with each session.started and session.ended
// stored from now on, until ctx ends or fn fails (the console's live
// page); it needs the audit list right.
func (aq Audit) FollowSessions(ctx context.Context, c Caller, fn func(eventlog.Event) error) error {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbList); err != nil {
		return err
	}
	last, err := s.cfg.Audit.LastSeq(ctx)
	if err != nil {
		return err
	}
	q := eventlog.Query{FromSeq: last + 1, Subjects: []string{
		eventlog.AuditFilter("", "", "", schemas.TypeSessionStarted), eventlog.AuditFilter("", "", "", schemas.TypeSessionEnded)}}
	return s.cfg.Audit.Follow(ctx, q, func(r eventlog.Record) error { return fn(r.Event) })
}

// AccessDiff says what changed in who could reach what between two times
// (auditquery.Diff); it needs the audit read right.
func (aq Audit) AccessDiff(ctx context.Context, c Caller, q wire.AccessDiff) (auditquery.AccessDiff, error) {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbRead); err != nil {
		return auditquery.AccessDiff{}, err
	}
	if q.From.IsZero() || q.To.IsZero() || q.To.Before(q.From) {
		return auditquery.AccessDiff{}, invalidf("two times are required, the second not before the first (RFC 3339, or 2h for two hours ago)")
	}
	return auditquery.Diff(ctx, s.cfg.Control, q.From, q.To)
}

// Verify checks the audit stream against the anchors of the control
// stream (auditquery.Verify): hash chains, checkpoint signatures, where
// each chain starts and ends. Tampering is in the report. It needs the
// audit read right.
func (aq Audit) Verify(ctx context.Context, c Caller, q wire.AuditVerify) (auditquery.VerifyReport, error) {
	s := aq.s
	anchors, err := aq.Anchors(ctx, c)
	if err != nil {
		return auditquery.VerifyReport{}, err
	}
	return auditquery.Verify(ctx, s.cfg.Audit, auditquery.VerifyOptions{Anchors: anchors, Since: q.Since, Now: s.cfg.Clock.Now()})
}

// Anchors returns what the control stream says about each audit
// chain (auditquery.LoadAnchors), for verifying a copy of the audit
// stream elsewhere (tollctl audit verify --from-file). It needs the audit
// read right.
func (aq Audit) Anchors(ctx context.Context, c Caller) (auditquery.Anchors, error) {
	s := aq.s
	if err := s.Authorize(c, schemas.ResourceAudit, schemas.VerbRead); err != nil {
		return auditquery.Anchors{}, err
	}
	return auditquery.LoadAnchors(ctx, s.cfg.Control)
}
