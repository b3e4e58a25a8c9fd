package schemas

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Shrinking an event to the size bound (DESIGN §3): an event too large is
// never dropped. Fit cuts the event's texts, names and parameters — every
// field a client or a server can make large — to one cap, the largest that
// makes the data fit, and flags it "truncated". A query keeps the SHA-256
// of its full statement and of each parameter it cut, and summarises
// parameters left out at the end (too many to fit even cut) in one hash, so
// what was cut can still be matched. This is the one implementation: the
// relay fits the query events it builds, and the agent's publisher fits any
// event still over the bound once its envelope is known.

// Fit returns data, of an event of type typ at version v, cut to at most
// max bytes of JSON (data itself when it fits). It fails, wrapping
// eventlog.ErrTooLarge, for a type or version it cannot shrink, and when
// even every cuttable field cut to nothing does not fit.
func Fit(typ string, v int, data json.RawMessage, max int) (json.RawMessage, error) {
	if len(data) <= max {
		return data, nil
	}
	if v != CurrentVersion(typ) {
		return nil, fmt.Errorf("shrink %s v%d event: %w", typ, v, eventlog.ErrTooLarge)
	}
	switch typ {
	case TypeQuery:
		return fitAs[Query](data, max)
	case TypeQueryResult:
		return fitAs[QueryResult](data, max)
	case TypeSessionStarted:
		return fitAs[SessionStarted](data, max)
	case TypeSessionRejected:
		return fitAs[SessionRejected](data, max)
	case TypeSessionEnded:
		return fitAs[SessionEnded](data, max)
	}
	return nil, fmt.Errorf("shrink %s event: no field to cut: %w", typ, eventlog.ErrTooLarge)
}

// fitter is a data type Fit can shrink.
type fitter interface {
	Query | QueryResult | SessionStarted | SessionRejected | SessionEnded
	Fit(max int) (json.RawMessage, error)
}

func fitAs[T fitter](data json.RawMessage, max int) (json.RawMessage, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("shrink event: %w", err)
	}
	return v.Fit(max)
}

// fitCap returns the encoding of build(c) for the largest cap c in [0, hi]
// whose encoding is at most max bytes, where build(c) is the value with
// every cuttable string cut to c bytes. It fails when c = 0 does not fit.
func fitCap(hi, max int, build func(c int) any) (json.RawMessage, error) {
	hi = min(hi, max) // a longer string cannot fit
	enc := func(c int) (json.RawMessage, bool, error) {
		b, err := json.Marshal(build(c))
		return b, err == nil && len(b) <= max, err
	}
	best, ok, err := enc(0)
	if err != nil {
		return nil, fmt.Errorf("shrink event: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("shrink event to %d bytes: %d even cut: %w", max, len(best), eventlog.ErrTooLarge)
	}
	lo := 0 // fits
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		b, ok, err := enc(mid)
		if err != nil {
			return nil, fmt.Errorf("shrink event: %w", err)
		}
		if ok {
			lo, best = mid, b
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}

// cut is the size bound's text cutter.
func cut(s string, c int) string { return eventlog.CutUTF8(s, c) }

func longest(n int, ss ...string) int {
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// paramBytes returns a parameter's bytes as bound (nil for NULL).
func paramBytes(p QueryParam) []byte {
	switch p.Format {
	case "null":
		return nil
	case "binary":
		if b, err := base64.StdEncoding.DecodeString(p.Value); err == nil {
			return b
		}
	}
	return []byte(p.Value)
}

// OmittedParamsSHA256 is Query.ParamsSHA256 for the parameters ps: the hex
// SHA-256 over each, in order, as in the Bind message (a 4-byte big-endian
// length, -1 for NULL, then its bytes).
func OmittedParamsSHA256(ps []QueryParam) string {
	h := sha256.New()
	var n [4]byte
	for _, p := range ps {
		if p.Format == "null" {
			binary.BigEndian.PutUint32(n[:], 0xFFFFFFFF)
			h.Write(n[:])
			continue
		}
		b := paramBytes(p)
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fit encodes q in at most max bytes (see Fit): the statement, the
// statement and portal names and the parameter values are cut to one cap,
// each cut parameter keeps the SHA-256 of its full value, and when the
// parameters do not fit even cut to nothing, those at the end are left out
// (ParamsOmitted, ParamsSHA256). SHA256 is the full statement's.
func (q Query) Fit(max int) (json.RawMessage, error) {
	if b, err := json.Marshal(q); err != nil || len(b) <= max {
		return b, err
	}
	full := q
	// A statement or parameter the caller already cut keeps the SHA-256 of
	// its full value, which it computed.
	stmtSum := q.SHA256
	if !q.Truncated || stmtSum == "" {
		stmtSum = hexSHA256([]byte(q.Statement))
	}
	sums := make([]string, len(q.Params))
	hi := longest(0, q.Statement, q.StatementName, q.Portal)
	for i, p := range q.Params {
		switch {
		case p.SHA256 != "":
			sums[i] = p.SHA256
		case p.Value != "":
			sums[i] = hexSHA256(paramBytes(p))
		}
		hi = longest(hi, p.Value)
	}
	// build(keep, omitted) builds q with the first keep parameters and its
	// strings cut to c; omitted is ParamsSHA256 (a placeholder of the same
	// length while searching: the size does not depend on it).
	build := func(keep int, omitted string) func(c int) any {
		return func(c int) any {
			out := full
			out.Truncated, out.SHA256 = true, stmtSum
			out.Statement, out.StatementName, out.Portal = cut(full.Statement, c), cut(full.StatementName, c), cut(full.Portal, c)
			out.Params = make([]QueryParam, keep)
			for i, p := range full.Params[:keep] {
				if len(p.Value) > c {
					p.Value, p.SHA256 = cut(p.Value, c), sums[i]
				}
				out.Params[i] = p
			}
			out.ParamsOmitted, out.ParamsSHA256 = 0, ""
			if keep < len(full.Params) {
				out.ParamsOmitted, out.ParamsSHA256 = len(full.Params)-keep, omitted
			}
			return out
		}
	}
	// Keep every parameter if they fit cut to nothing, else as many as do
	// (at most one per `{"format":"null"},` of max).
	keep := len(q.Params)
	placeholder := strings.Repeat("0", sha256.Size*2)
	if _, err := fitCap(0, max, build(keep, placeholder)); err != nil {
		lo, hiKeep := 0, min(keep-1, max/len(`{"format":"null"},`))
		for lo < hiKeep {
			mid := lo + (hiKeep-lo+1)/2
			if _, err := fitCap(0, max, build(mid, placeholder)); err == nil {
				lo = mid
			} else {
				hiKeep = mid - 1
			}
		}
		keep = lo
	}
	omitted := ""
	if keep < len(full.Params) {
		omitted = OmittedParamsSHA256(full.Params[keep:])
	}
	return fitCap(hi, max, build(keep, omitted))
}

// Fit encodes r in at most max bytes (see Fit): the error message and the
// command tag are cut.
func (r QueryResult) Fit(max int) (json.RawMessage, error) {
	if b, err := json.Marshal(r); err != nil || len(b) <= max {
		return b, err
	}
	return fitCap(longest(0, r.Error, r.CommandTag), max, func(c int) any {
		out := r
		out.Truncated, out.Error, out.CommandTag = true, cut(r.Error, c), cut(r.CommandTag, c)
		return out
	})
}

// Fit encodes s in at most max bytes (see Fit): the db user and name, the
// decision, and the startup parameters' names and values are cut.
func (s SessionStarted) Fit(max int) (json.RawMessage, error) {
	if b, err := json.Marshal(s); err != nil || len(b) <= max {
		return b, err
	}
	return fitCap(longestParam(longest(0, s.DBUser, s.DBName, s.Decision, s.ClientAddr), s.Params), max, func(c int) any {
		out := s
		out.Truncated = true
		out.DBUser, out.DBName, out.Decision, out.ClientAddr = cut(s.DBUser, c), cut(s.DBName, c), cut(s.Decision, c), cut(s.ClientAddr, c)
		out.Params = cutParams(s.Params, c)
		return out
	})
}

// Fit encodes s in at most max bytes (see Fit): the names, the reason and
// the startup parameters' names and values are cut.
func (s SessionRejected) Fit(max int) (json.RawMessage, error) {
	if b, err := json.Marshal(s); err != nil || len(b) <= max {
		return b, err
	}
	hi := longestParam(longest(0, s.User, s.Database, s.DBUser, s.DBName, s.Reason, s.ClientAddr), s.Params)
	return fitCap(hi, max, func(c int) any {
		out := s
		out.Truncated = true
		out.User, out.Database, out.DBUser, out.DBName = cut(s.User, c), cut(s.Database, c), cut(s.DBUser, c), cut(s.DBName, c)
		out.Reason, out.ClientAddr = cut(s.Reason, c), cut(s.ClientAddr, c)
		out.Params = cutParams(s.Params, c)
		return out
	})
}

// Fit encodes s in at most max bytes (see Fit): the message is cut.
func (s SessionEnded) Fit(max int) (json.RawMessage, error) {
	if b, err := json.Marshal(s); err != nil || len(b) <= max {
		return b, err
	}
	return fitCap(len(s.Message), max, func(c int) any {
		out := s
		out.Truncated, out.Message = true, cut(s.Message, c)
		return out
	})
}

func longestParam(n int, m map[string]string) int {
	for k, v := range m {
		n = longest(n, k, v)
	}
	return n
}

// cutParams cuts m's names and values to c bytes; a name that the cut
// makes equal to another's gets "#N" appended (N from 2), in name order.
func cutParams(m map[string]string, c int) map[string]string {
	if m == nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, len(m))
	for _, k := range keys {
		ck := cut(k, c)
		for n := 2; ; n++ {
			if _, dup := out[ck]; !dup {
				break
			}
			ck = cut(k, c) + "#" + strconv.Itoa(n)
		}
		out[ck] = cut(m[k], c)
	}
	return out
}
