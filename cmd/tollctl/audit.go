package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/auditview"
)

// parseWhen reads a moment: a duration ago ("1h") or an RFC 3339 time.
func parseWhen(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: use a duration ago (1h, 30d) or an RFC 3339 time (2025-01-02T15:04:05Z)", flag, v)
	}
	return t, nil
}

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Search, replay and verify the audit log (auditor)"}
	cmd.AddCommand(a.auditSearchCmd(), a.auditSessionCmd(), a.auditVerifyCmd())
	return cmd
}

func (a *app) auditSearchCmd() *cobra.Command {
	var (
		q           wire.AuditSearch
		since, till string
	)
	c := &cobra.Command{
		Use:   "search",
		Short: "List audit events by user, database, session, type and time, a page at a time",
		Long: `List audit events by user, database, session, type and time, in stream order.

One answer holds at most --limit events (at most 10000). When more match, the text
output ends with a line naming the cursor, and the JSON output has "more": true and
"cursor": N; run the same search again with --after=N for the next page.`,
		Example: `  tollctl audit search --user=alice --db=roach --since=24h
  tollctl audit search --type=session.started,session.rejected --from=2025-01-02T00:00:00Z --to=2025-01-03T00:00:00Z
  tollctl audit search --session=01J... --format=json
  tollctl audit search --user=alice --limit=10000 --after=123456   # the next page`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if q.From, err = parseWhen("--since", since, now); err != nil {
				return err
			}
			if q.To, err = parseWhen("--until", till, now); err != nil {
				return err
			}
			if q.Limit <= 0 {
				return errors.New("--limit must be at least 1")
			}
			q.Types = splitList(strings.Join(q.Types, ","))
			var res wire.AuditResults
			if err := a.call(func(cl *client.Client) (err error) {
				res, err = cl.AuditSearch(cmd.Context(), q)
				return err
			}); err != nil {
				return err
			}
			recs := records(res.Events)
			return a.print(res, func(w io.Writer) {
				if len(recs) == 0 {
					fmt.Fprintln(w, "No audit event matches.")
					return
				}
				_ = auditview.RenderRecords(w, recs, auditview.RecordsOptions{})
				if res.More {
					fmt.Fprintf(w, "More events match: this page stops at stream seq %d; for the next page, run the same search with --after=%d\n",
						res.Cursor, res.Cursor)
				}
			})
		},
	}
	f := c.Flags()
	f.StringVar(&q.User, "user", "", "only this Tollgate user")
	f.StringVar(&q.DB, "db", "", "only this database")
	f.StringVar(&q.Session, "session", "", "only this session id")
	f.StringSliceVar(&q.Types, "type", nil, "only these event types (comma-separated, e.g. query,session.started)")
	f.StringVar(&since, "since", "", "from a duration ago (1h) or a time (RFC 3339)")
	f.StringVar(&since, "from", "", "same as --since")
	f.StringVar(&till, "until", "", "up to a duration ago (10m) or a time (RFC 3339)")
	f.StringVar(&till, "to", "", "same as --until")
	f.IntVar(&q.Limit, "limit", auditquery.DefaultLimit, "at most this many events in one answer (at most 10000; page on with --after)")
	f.Uint64Var(&q.After, "after", 0, "only events after this cursor (the stream seq a previous page ended at)")
	return c
}

func (a *app) auditSessionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "session SESSION_ID",
		Short: "Show one session: how it started, its queries in order with results, cancels, how it ended",
		Long: `Show one session: how it started, its queries in order with their parameters and results,
cancel requests, and how it ended.

SESSION_ID is a session id or the start of one that no other session shares, such as the
short ids tollgate demo prints (letters in either case). A start that several sessions
share is an error listing them (at most 10): give more characters.`,
		Example: `  tollctl audit session 01JQ8ZD0A1B2C3D4E5F6G7H8J9
  tollctl audit session 01JQ8ZD0A1B2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, _, err := a.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			t, err := cl.AuditSession(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(t, func(w io.Writer) { _ = auditview.RenderTranscript(w, &t) })
		},
	}
}

func (a *app) auditVerifyCmd() *cobra.Command {
	var (
		since string
		files []string
	)
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log for tampering; exits non-zero naming what was found",
		Long: `Checks every source's audit hash chain against the control stream: each event's hash and
link, every checkpoint's signature (made with the source's host key, whose cert the control
stream records), that each chain starts where the control stream says (the agent's join),
that no events are missing before the last checkpoint (a cut tail) or between present ones,
and that no range was rewritten. It names the source and chain sequence range of each
problem, and says which most recent range of each source no checkpoint covers yet.

With --from-file it checks a file the export file sink wrote (native format) instead of the
stream, against the same control stream: a SIEM copy that a rewrite of the store cannot reach.
Give rotated files oldest first.`,
		Example: `  tollctl audit verify
  tollctl audit verify --since=24h
  tollctl audit verify --from-file /var/log/tollgate/audit.jsonl
  tollctl audit verify --from-file audit.jsonl.2 --from-file audit.jsonl.1 --from-file audit.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseWhen("--since", since, time.Now())
			if err != nil {
				return err
			}
			var rep auditquery.VerifyReport
			pos := "STREAM SEQ"
			if err := a.call(func(cl *client.Client) error {
				if len(files) == 0 {
					rep, err = cl.AuditVerify(cmd.Context(), wire.AuditVerify{Since: from})
					return err
				}
				pos = "LINE"
				anchors, err := cl.AuditAnchors(cmd.Context())
				if err != nil {
					return err
				}
				rep, err = verifyFiles(files, auditquery.VerifyOptions{Anchors: anchors, Since: from, Now: time.Now()})
				return err
			}); err != nil {
				return err
			}
			if err := a.print(rep, func(w io.Writer) { _ = auditview.RenderVerify(w, &rep, pos) }); err != nil {
				return err
			}
			if rep.OK() {
				return nil
			}
			p := rep.Problems[0]
			return fmt.Errorf("audit log tampered with (%s): %d problem(s); first: %s of %s, chain seq %d..%d: %s",
				rep.Origin, len(rep.Problems), p.Kind, p.Source, p.From, p.To, p.Detail)
		},
	}
	c.Flags().StringVar(&since, "since", "", "only events stored since a duration ago (24h) or a time (RFC 3339); chain starts are then not checked")
	c.Flags().StringArrayVar(&files, "from-file", nil, "verify this exported file (JSON lines, native format) instead of the stream; repeat for rotated files, oldest first")
	return c
}

// verifyFiles opens the exported files and verifies them in order.
func verifyFiles(paths []string, opt auditquery.VerifyOptions) (auditquery.VerifyReport, error) {
	files := make([]auditquery.File, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return auditquery.VerifyReport{}, fmt.Errorf("--from-file: %w", err)
		}
		defer f.Close()
		files = append(files, auditquery.File{Name: p, R: f})
	}
	return auditquery.VerifyFile(files, opt)
}

func (a *app) accessCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "access", Short: "Answer who could reach what (auditor)"}
	var q wire.AccessAt
	at := &cobra.Command{
		Use:   "at TIME",
		Short: "What a user could reach at a moment, replaying the control log up to it",
		Example: `  tollctl access at 2025-01-02T15:04:05Z --user=alice
  tollctl access at 2h --user=alice --db=roach`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if q.User == "" {
				return errors.New("--user is required")
			}
			var err error
			if q.At, err = parseWhen("TIME", args[0], time.Now()); err != nil {
				return err
			}
			cl, _, err := a.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			res, err := cl.AccessAt(cmd.Context(), q)
			if err != nil {
				return err
			}
			return a.print(res, func(w io.Writer) { _ = auditview.RenderAccess(w, &res) })
		},
	}
	at.Flags().StringVar(&q.User, "user", "", "the Tollgate user (required)")
	at.Flags().StringVar(&q.DB, "db", "", "only this database")
	cmd.AddCommand(at, a.accessDiffCmd())
	return cmd
}

func (a *app) accessDiffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff T1 T2",
		Short: "What changed in who could reach what between two moments (roles, users, locks, databases, each user's reach)",
		Example: `  tollctl access diff 2025-01-02T00:00:00Z 2025-01-03T00:00:00Z
  tollctl access diff 24h 0s          # the last day`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now()
			var q wire.AccessDiff
			var err error
			if q.From, err = parseWhen("T1", args[0], now); err != nil {
				return err
			}
			if q.To, err = parseWhen("T2", args[1], now); err != nil {
				return err
			}
			cl, _, err := a.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			d, err := cl.AccessDiff(cmd.Context(), q)
			if err != nil {
				return err
			}
			return a.print(d, func(w io.Writer) {
				fmt.Fprintf(w, "From %s to %s:\n", d.From.UTC().Format(time.RFC3339), d.To.UTC().Format(time.RFC3339))
				if len(d.Changes) == 0 {
					fmt.Fprintln(w, "  nothing changed")
				}
				for _, c := range d.Changes {
					fmt.Fprintf(w, "  %-8s %-8s %s\n", c.Kind, c.What, c.Detail)
				}
			})
		},
	}
}
