package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/policy"
)

func (a *app) policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Query policies: try statement rules on recorded history before enforcing them"}
	cmd.AddCommand(a.policySimulateCmd())
	return cmd
}

func (a *app) policySimulateCmd() *cobra.Command {
	var (
		file, since, until string
		q                  wire.PolicySimulate
	)
	c := &cobra.Command{
		Use:   "simulate -f role.yaml --since=30d",
		Short: "Replay recorded queries against a proposed role and report what its statement rules would have refused",
		Long: `Replay the queries recorded in a window against the statement rules with a proposed role in place,
and report every query that would have been refused: by user, rule and statement. Nothing changes.

The proposed role replaces the role of its name for the sessions that held it (with --user, it is
also given to that user's sessions), and is judged as enforced even when its options say dry_run.
Each session is judged by the roles its session.started recorded, with today's role definitions.

A role can then be created with options.db_statements.mode: dry_run, which records what it would
refuse (query.would_deny) as it happens, before it is enforced.`,
		Example: `  tollctl policy simulate -f dev.yaml --since=30d
  tollctl policy simulate -f dev.yaml --since=7d --user=alice --format=json   # for CI`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("-f is required: the proposed role file (- for standard input)")
			}
			r, err := readRoleFile(a, file)
			if err != nil {
				return err
			}
			q.Role = r
			now := time.Now()
			if q.Since, err = parseWhen("--since", since, now); err != nil {
				return err
			}
			if q.Until, err = parseWhen("--until", until, now); err != nil {
				return err
			}
			cl, _, err := a.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			rep, err := cl.PolicySimulate(cmd.Context(), q)
			if err != nil {
				return err
			}
			return a.print(rep, func(w io.Writer) { renderReport(w, &rep) })
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "the proposed role, a role file as for `tollctl roles create -f` (required)")
	c.Flags().StringVar(&since, "since", "", "start of the window: a duration ago (30d, 12h) or an RFC 3339 time (required)")
	c.Flags().StringVar(&until, "until", "", "end of the window (default now)")
	c.Flags().StringVar(&q.User, "user", "", "only this user's sessions (and give them the role)")
	c.Flags().StringVar(&q.DB, "db", "", "only this database")
	return c
}

func renderReport(w io.Writer, rep *policy.Report) {
	fmt.Fprintf(w, "Role %s over %s to %s: %d sessions, %d queries judged, %d would have been refused.\n",
		rep.Role, rep.Since.UTC().Format(time.RFC3339), rep.Until.UTC().Format(time.RFC3339), rep.Sessions, rep.Queries, rep.Denied)
	if rep.Denied == 0 {
		return
	}
	for _, sec := range []struct {
		title string
		cs    []policy.Count
	}{{"By user", rep.ByUser}, {"By rule (role/rule)", rep.ByRule}} {
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		for _, c := range sec.cs {
			fmt.Fprintf(w, "  %6d  %s\n", c.Count, c.Key)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tUSER\tDB\tSESSION\tN\tRULE\tSTATEMENT")
	for _, m := range rep.Matches {
		rule := m.Role + "/" + m.Rule
		if m.Rule == "" {
			rule = m.Role + " (" + m.Action + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.Time.UTC().Format(time.RFC3339), m.User, m.Database, m.Session, m.N, rule,
			strings.Join(strings.Fields(m.Text), " "))
	}
	_ = tw.Flush()
	if rep.Truncated {
		fmt.Fprintf(w, "(the first %d listed; --format=json has the same list, the counts above are complete)\n", len(rep.Matches))
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "skipped session %s: %s\n", s.Session, s.Reason)
	}
}
