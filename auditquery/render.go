package auditquery

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// maxCell bounds a statement or message shown in a table cell.
const maxCell = 120

const timeFmt = "2006-01-02T15:04:05.000Z07:00"

func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxCell {
		return string(r[:maxCell-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// RenderRecords prints search results: time, type, database, user,
// session, and a summary of the data.
func RenderRecords(w io.Writer, recs []eventlog.Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tDB\tUSER\tSESSION\tDETAIL")
	for _, r := range recs {
		db, user, sess := "-", "-", "-"
		if p := strings.Split(strings.TrimPrefix(r.Event.Subject, eventlog.AuditPrefix+"."), "."); len(p) == 4 {
			db, user, sess = cell(eventlog.DecodeToken(p[0])), cell(eventlog.DecodeToken(p[1])), cell(eventlog.DecodeToken(p[2]))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.StreamSeq, r.Event.Time.UTC().Format(timeFmt), r.Event.Type,
			db, user, sess, cell(summary(&r.Event)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d events\n", len(recs))
	return err
}

// summary is one line of an event's data, decoded through schemas (so an
// old version is upcast); an event this binary cannot decode says why.
func summary(ev *eventlog.Event) string {
	v, err := schemas.Decode(*ev)
	if err != nil {
		return "(cannot decode: " + err.Error() + ")"
	}
	switch d := v.(type) {
	case *schemas.Query:
		return fmt.Sprintf("#%d %s", d.N, d.Statement)
	case *schemas.QueryResult:
		return fmt.Sprintf("#%d %s", d.N, resultText(d))
	case *schemas.AuthLogin:
		if d.Success {
			return d.User + " ok (" + d.Method + ")"
		}
		return d.User + " failed: " + d.Reason
	case *schemas.SessionRejected:
		return suppressedText(d.Suppressed, "refusals") + d.Code + ": " + d.Reason
	case *schemas.SessionCancel:
		return suppressedText(d.Suppressed, "cancel requests") +
			fmt.Sprintf("from %s matched=%v forwarded=%v %s", d.ClientAddr, d.Matched, d.Forwarded, d.Reason)
	case *schemas.SessionEnded:
		return fmt.Sprintf("%s after %s, %d queries", d.Reason, time.Duration(d.DurationMS)*time.Millisecond, d.Queries)
	}
	up, err := schemas.Upcast(*ev)
	if err != nil {
		return "(cannot decode: " + err.Error() + ")"
	}
	return string(up.Data)
}

// suppressedText leads the line of a flood summary.
func suppressedText(n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("[%d %s not recorded one by one (rate limit); the last:] ", n, what)
}

func resultText(r *schemas.QueryResult) string {
	if r.Status == schemas.ResultError {
		return fmt.Sprintf("ERROR %s %s (%s)", r.SQLState, r.Error, time.Duration(r.DurationUS)*time.Microsecond)
	}
	return fmt.Sprintf("%s %s rows=%d (%s)", r.Status, r.CommandTag, r.Rows, time.Duration(r.DurationUS)*time.Microsecond)
}

func paramsText(ps []schemas.QueryParam) string {
	if len(ps) == 0 {
		return "-"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		switch p.Format {
		case "null":
			parts[i] = fmt.Sprintf("$%d=NULL", i+1)
		case "binary":
			parts[i] = fmt.Sprintf("$%d=b64:%s", i+1, p.Value)
		default:
			parts[i] = fmt.Sprintf("$%d=%q", i+1, p.Value)
		}
	}
	return strings.Join(parts, " ")
}

// RenderTranscript prints a session: how it started, its queries in order
// with params and outcome, the cancels, and how it ended.
func RenderTranscript(w io.Writer, t *Transcript) error {
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", q.Query.N, at, cell(stmt), cell(paramsText(q.Query.Params)), cell(res))
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

// RenderAccess prints what a user could reach at a moment.
func RenderAccess(w io.Writer, r *AccessResult) error {
	if !r.Exists {
		_, err := fmt.Fprintf(w, "User %s did not exist at %s.\n", r.User, r.At.UTC().Format(time.RFC3339))
		return err
	}
	fmt.Fprintf(w, "User %s at %s (control seq %d), roles: %s\n", r.User, r.At.UTC().Format(time.RFC3339), r.LastSeq,
		strings.Join(r.Roles, ", "))
	if len(r.Databases) == 0 {
		_, err := fmt.Fprintln(w, "No database was reachable.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tPROTOCOL\tLABELS\tDB USERS\tDB NAMES\tGRANTED BY")
	for _, a := range r.Databases {
		labels := make([]string, 0, len(a.Database.Labels))
		for k, v := range a.Database.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		names := "(not enforced)"
		if a.NamesEnforced {
			names = strings.Join(a.DBNames, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Database.Name, a.Database.Protocol, cell(strings.Join(labels, ",")),
			cell(strings.Join(a.DBUsers, ",")), cell(names), strings.Join(a.Roles, ","))
	}
	return tw.Flush()
}
