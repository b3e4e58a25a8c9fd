package auditview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/schemas"
)

// RenderTranscript prints a session: how it started, its queries in order
// with params and outcome, the cancels, and how it ended.
func RenderTranscript(w io.Writer, t *auditquery.Transcript) error {
	fmt.Fprintf(w, "Session %s\n", t.SessionID)
	if s := t.Started; s != nil {
		fmt.Fprintf(w, "Started  %s  user=%s database=%s db_user=%s db_name=%s client=%s agent=%s allowed_by=%s\n",
			t.StartedAt.UTC().Format(timeFmt), s.User, s.Database, s.DBUser, s.DBName, s.ClientAddr, s.AgentID, cell(s.DecidedBy))
	}
	if s := t.Rejected; s != nil {
		at := t.RejectedAt
		if at.IsZero() {
			at = t.StartedAt
		}
		fmt.Fprintf(w, "Rejected %s  user=%s database=%s client=%s: %s: %s\n",
			at.UTC().Format(timeFmt), s.User, s.Database, s.ClientAddr, s.Code, s.Reason)
		if t.Started != nil {
			fmt.Fprintln(w, "         (session.started was recorded before the refusal; the session never reached the database)")
		}
	}
	if t.Started == nil && t.Rejected == nil {
		fmt.Fprintln(w, "Started  (start not recorded)")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tTIME\tSTATEMENT\tPARAMS\tRESULT")
	for _, q := range t.Queries {
		stmt := q.Query.Statement
		if q.Query.Truncated {
			stmt += " [truncated, sha256 " + q.Query.SHA256 + "]"
		}
		res := "(no result recorded)"
		if q.Result != nil {
			res = resultText(q.Result)
		}
		at := "-"
		if !q.At.IsZero() {
			at = q.At.UTC().Format(timeFmt)
		}
		for _, p := range q.Policy {
			res += "; " + PolicyText(p)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", q.Query.N, at, cell(stmt), cell(paramsText(q.Query.Params, q.Query.ParamsOmitted)), cell(res))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range t.Cancels {
		line := fmt.Sprintf("Cancel   %s  %sfrom %s matched=%v forwarded=%v %s", c.At.UTC().Format(timeFmt),
			suppressedText(c.Cancel.Suppressed, "cancel requests"), c.Cancel.ClientAddr, c.Cancel.Matched, c.Cancel.Forwarded, c.Cancel.Reason)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if t.Ended != nil {
		e := t.Ended
		line := fmt.Sprintf("Ended    %s  reason=%s after %s, %d queries, %d bytes in, %d bytes out %s",
			t.EndedAt.UTC().Format(timeFmt), e.Reason, time.Duration(e.DurationMS)*time.Millisecond, e.Queries, e.BytesIn, e.BytesOut, e.Message)
		_, err := fmt.Fprintln(w, strings.TrimRight(line, " "))
		return err
	}
	if t.Rejected != nil && len(t.Queries) == 0 {
		return nil // refused: there was no session to end
	}
	_, err := fmt.Fprintln(w, "Ended    (not recorded: live, or the agent stopped abruptly)")
	return err
}

// PolicyText says what a statement rule did to a query: "refused by
// dev/no-unfiltered-writes (deny, statement 2): …".
func PolicyText(p auditquery.PolicyEntry) string {
	verb := map[string]string{schemas.TypeQueryDenied: "refused", schemas.TypeQueryWouldDeny: "would be refused",
		schemas.TypeQueryFlagged: "flagged"}[p.Type]
	by := p.Match.Role
	if p.Match.Rule != "" {
		by += "/" + p.Match.Rule
	}
	return fmt.Sprintf("%s by %s (%s, statement %d): %s", verb, by, p.Match.Action, p.Match.Statement, p.Match.Reason)
}
