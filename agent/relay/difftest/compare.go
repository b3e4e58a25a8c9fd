package difftest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Compare matches the server's log with the query events, in order: each
// logged statement must be the next query event's text; a query event
// with no log line must have failed without running (its result is an
// error). It returns "" when they agree.
func Compare(logged []string, evs []eventlog.Event) string {
	var qs []schemas.Query
	results := map[uint64]schemas.QueryResult{}
	for _, ev := range evs {
		switch ev.Type {
		case schemas.TypeQuery:
			v, err := schemas.Decode(ev)
			if err != nil {
				return "undecodable query event: " + err.Error()
			}
			qs = append(qs, *v.(*schemas.Query))
		case schemas.TypeQueryResult:
			v, err := schemas.Decode(ev)
			if err != nil {
				return "undecodable result event: " + err.Error()
			}
			r := *v.(*schemas.QueryResult)
			if _, dup := results[r.N]; dup {
				return fmt.Sprintf("query %d has two results", r.N)
			}
			results[r.N] = r
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].N < qs[j].N })
	for _, q := range qs {
		if _, ok := results[q.N]; !ok {
			return fmt.Sprintf("query %d (%q) has no result", q.N, q.Statement)
		}
	}
	// Does some choice of the failed queries (each may or may not have
	// been logged before it failed) make the queries' texts the log?
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(qs) {
			return j == len(logged)
		}
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		q, r := qs[i], results[qs[i].N]
		same := j < len(logged) && logged[j] == q.Statement
		var v bool
		switch {
		case r.Status == schemas.ResultError && strings.HasPrefix(r.Error, "not executed"):
			v = match(i+1, j) // skipped: no log line may be taken for it
		case r.Status == schemas.ResultError:
			v = match(i+1, j) || (same && match(i+1, j+1))
		default:
			v = same && match(i+1, j+1)
		}
		memo[key] = v
		return v
	}
	if match(0, 0) {
		return ""
	}
	return fmt.Sprintf("no alignment of the query events with the server's log:\n  audit:  %s\n  server: %q", auditLines(qs, results), logged)
}

func auditLines(qs []schemas.Query, results map[uint64]schemas.QueryResult) string {
	var b strings.Builder
	for _, q := range qs {
		r := results[q.N]
		fmt.Fprintf(&b, "\n    %d %q → %s %s%s", q.N, q.Statement, r.Status, r.CommandTag, r.SQLState)
	}
	return b.String()
}

// Logged returns the statements a PostgreSQL log (log_statement=all)
// holds under prefix (the log_line_prefix of one backend or one user, then
// "LOG:  "): simple queries ("statement: …") and executes ("execute
// name: …", "execute fetch from name/portal: …"), in order. Texts are one
// line each (the generator makes none with a newline).
func Logged(log, prefix string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		if text, ok := strings.CutPrefix(rest, "statement: "); ok {
			out = append(out, text)
		} else if strings.HasPrefix(rest, "execute ") {
			if i := strings.Index(rest, ": "); i > 0 {
				out = append(out, rest[i+2:])
			}
		}
	}
	return out
}

// EndMarker is sent after a sequence: its reply ends the sequence's
// replies however many ReadyForQuery the server sent (a Query inside a
// failed extended group gets none), and it runs in any transaction state.
const EndMarker = "rollback; select 'tollgate-diff-end'"

// EndValue is the marker's one value.
const EndValue = "tollgate-diff-end"

// Other is the statement the attacks of issue 9 run under an innocent
// one's name.
const Other = "select 'OTHER' as evil"

// Attacks are the sequences that made the audit record another statement
// than the one that ran (issue 9), by name.
func Attacks() map[string][]pgproto3.FrontendMessage {
	innocent := "select 'INNOCENT'"
	return map[string][]pgproto3.FrontendMessage{
		"re-parse after SQL DEALLOCATE": {
			&pgproto3.Parse{Name: "s1", Query: innocent}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DEALLOCATE s1"},
			&pgproto3.Parse{Name: "s1", Query: Other}, &pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"re-parse after DISCARD ALL": {
			&pgproto3.Parse{Name: "s1", Query: innocent}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DISCARD ALL"},
			&pgproto3.Parse{Name: "s1", Query: Other}, &pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"names past 63 bytes are one name": {
			&pgproto3.Parse{Name: Long + "x", Query: innocent}, &pgproto3.Sync{},
			&pgproto3.Close{ObjectType: 'S', Name: Long + "z"}, &pgproto3.Sync{},
			&pgproto3.Parse{Name: Long + "w", Query: Other}, &pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: Long + "x"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"portal re-bound after SQL CLOSE in a transaction": {
			&pgproto3.Query{String: "begin"},
			&pgproto3.Parse{Name: "a", Query: innocent}, &pgproto3.Parse{Name: "b", Query: Other}, &pgproto3.Sync{},
			&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "a"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "CLOSE p"},
			&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "b"}, &pgproto3.Execute{Portal: "p"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "commit"},
		},
		"statement made by SQL PREPARE": {
			&pgproto3.Query{String: "PREPARE s2 AS " + Other},
			&pgproto3.Bind{PreparedStatement: "s2"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"cursor made by SQL DECLARE": {
			&pgproto3.Query{String: "begin; DECLARE c CURSOR FOR " + Other},
			&pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "commit"},
		},
		"pipelined without waiting": {
			&pgproto3.Parse{Name: "s1", Query: innocent}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DEALLOCATE s1"},
			&pgproto3.Parse{Name: "s1", Query: Other}, &pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
	}
}

// Encode is msgs then the end marker, as one pipelined write.
func Encode(msgs []pgproto3.FrontendMessage) []byte {
	var buf []byte
	for _, m := range msgs {
		buf, _ = m.Encode(buf)
	}
	buf, _ = (&pgproto3.Query{String: EndMarker}).Encode(buf)
	return buf
}

// WithoutMarker drops the end marker from the log and its two events (the
// session's last query) from evs.
func WithoutMarker(logged []string, evs []eventlog.Event) ([]string, []eventlog.Event, error) {
	if len(logged) == 0 || logged[len(logged)-1] != EndMarker {
		return nil, nil, fmt.Errorf("the server did not log the end marker last: %q", logged)
	}
	last := uint64(0)
	for _, ev := range evs {
		if n, ok := queryN(ev); ok && n > last {
			last = n
		}
	}
	var kept []eventlog.Event
	for _, ev := range evs {
		if n, ok := queryN(ev); !ok || n != last {
			kept = append(kept, ev)
		}
	}
	return logged[:len(logged)-1], kept, nil
}

// queryN is the n of a query or query.result event.
func queryN(ev eventlog.Event) (uint64, bool) {
	v, err := schemas.Decode(ev)
	if err != nil {
		return 0, false
	}
	switch d := v.(type) {
	case *schemas.Query:
		return d.N, true
	case *schemas.QueryResult:
		return d.N, true
	}
	return 0, false
}
