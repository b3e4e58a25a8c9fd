package auditquery

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
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

// RecordsOptions change how RenderRecords shows events.
type RecordsOptions struct {
	// ShortSessions shows each session id by its shortest prefix (at
	// least ShortSessionLen characters) that no other session of the
	// table shares: what tollctl audit session accepts.
	ShortSessions bool
	// NoHeader leaves out the column names and NoCount the closing count
	// (tollctl events tail prints one header, then a page at a time).
	NoHeader, NoCount bool
}

// ShortSessionLen is the least length of a short session id. Session ids
// are ULIDs, whose first 10 characters are the millisecond of the
// connection: 12 leave two random ones.
const ShortSessionLen = 12

// RenderRecords prints events of either stream as a table: stream
// sequence, time, type, database, user, session and what happened
// (Describe).
func RenderRecords(w io.Writer, recs []eventlog.Record, opt RecordsOptions) error {
	rows := make([]Described, len(recs))
	var sessions []string
	for i, r := range recs {
		rows[i] = Describe(r.Event)
		if rows[i].Session != "" {
			sessions = append(sessions, rows[i].Session)
		}
	}
	short := map[string]string{}
	if opt.ShortSessions {
		short = shortPrefixes(sessions, ShortSessionLen)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !opt.NoHeader {
		fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tDB\tUSER\tSESSION\tDETAIL")
	}
	for i, r := range recs {
		d := rows[i]
		sess := d.Session
		if s, ok := short[sess]; ok {
			sess = s
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.StreamSeq, r.Event.Time.UTC().Format(timeFmt), r.Event.Type,
			cell(d.DB), cell(d.User), cell(sess), cell(d.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if opt.NoCount {
		return nil
	}
	_, err := fmt.Fprintf(w, "%d events\n", len(recs))
	return err
}

// shortPrefixes maps each id to its shortest prefix of at least least
// characters that is no other id's prefix too.
func shortPrefixes(ids []string, least int) map[string]string {
	uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[string]string, len(uniq))
	for i, id := range uniq {
		n := least
		for _, other := range [2]int{i - 1, i + 1} {
			if other < 0 || other >= len(uniq) {
				continue
			}
			if c := commonPrefix(id, uniq[other]) + 1; c > n {
				n = c
			}
		}
		out[id] = id[:min(n, len(id))]
	}
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
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
