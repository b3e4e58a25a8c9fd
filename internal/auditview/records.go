package auditview

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

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
