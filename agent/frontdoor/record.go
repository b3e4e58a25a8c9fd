package frontdoor

import (
	"sort"
	"unicode/utf8"

	"github.com/tollgate-db/tollgate/schemas"
)

// Bounds on what session.started and session.rejected record of the
// client's startup: a StartupMessage may carry up to 10 KB of parameters
// (one 9 KB application_name, or thousands of tiny ones), and a client
// without a certificate can send one per connection.
const (
	// MaxRecordedValue bounds one recorded parameter value (and the db
	// user, db name and certificate user taken from the startup or cert).
	MaxRecordedValue = 512
	// MaxRecordedName bounds one recorded parameter name.
	MaxRecordedName = 64
	// MaxRecordedParams bounds the names and values recorded together;
	// parameters past it are left out.
	MaxRecordedParams = 4096
)

// firstParams are recorded first, so the total bound cuts others.
var firstParams = []string{"user", "database", "options", "replication", "application_name"}

// RecordedParams returns params cut to the recorded bounds, and whether
// anything was cut or left out. The well-known parameters come first, the
// rest in name order, so what is kept does not depend on map order.
func RecordedParams(params map[string]string) (map[string]string, bool) {
	if len(params) == 0 {
		return params, false
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	rank := func(k string) int {
		for i, f := range firstParams {
			if k == f {
				return i
			}
		}
		return len(firstParams)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	out := make(map[string]string, min(len(params), 32))
	cut := false
	budget := MaxRecordedParams
	for _, k := range names {
		v := params[k]
		name, c1 := capText(k, MaxRecordedName)
		val, c2 := capText(v, MaxRecordedValue)
		cut = cut || c1 || c2
		if _, dup := out[name]; dup {
			cut = true // two long names cut to the same prefix
			continue
		}
		if len(name)+len(val) > budget {
			cut = true
			continue
		}
		budget -= len(name) + len(val)
		out[name] = val
	}
	return out, cut
}

// capText cuts s to at most n bytes without splitting a UTF-8 sequence.
func capText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], true
}

// recordedRejection bounds what a rejection records of the client's
// input: parameters, db user, db name, and the user named by a cert.
func recordedRejection(ev schemas.SessionRejected) schemas.SessionRejected {
	var c [4]bool
	ev.Params, c[0] = RecordedParams(ev.Params)
	ev.DBUser, c[1] = capText(ev.DBUser, MaxRecordedValue)
	ev.DBName, c[2] = capText(ev.DBName, MaxRecordedValue)
	ev.User, c[3] = capText(ev.User, MaxRecordedValue)
	ev.Truncated = ev.Truncated || c[0] || c[1] || c[2] || c[3]
	return ev
}
