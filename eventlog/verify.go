package eventlog

import (
	"context"
	"fmt"
	"sort"
)

// Problem kinds found by Verify.
const (
	ProblemMissing   = "missing"   // events of a source's chain are absent
	ProblemReordered = "reordered" // an event appears after a later one
	ProblemAltered   = "altered"   // an event's hash or prev link does not match
	ProblemDuplicate = "duplicate" // an event's sequence appears twice
	// ProblemLate is not a break (Report.Late): a run of a source's chain
	// stored after later events of it, in order and linked both ways, as a
	// publish retried after a NATS failover stores it.
	ProblemLate = "late"
)

// Problem is one break in a source's hash chain.
type Problem struct {
	StreamSeq uint64 // the record where the break shows (for missing: the one after the gap)
	EventID   string
	Source    string
	Kind      string
	Detail    string
	// From and To are the chain sequences concerned: the missing range,
	// or the event's own sequence.
	From, To uint64
}

// Report is the result of Verify.
type Report struct {
	// Checked counts chained events per source.
	Checked map[string]uint64
	// Unchained counts records without a hash chain (skipped).
	Unchained uint64
	// Problems in stream order.
	Problems []Problem
	// Late lists the runs of a chain stored after later events of their
	// source whose links hold (ProblemLate): nothing is missing or altered,
	// only the storage order differs from the chain's.
	Late []Problem
	// First is the earliest problem (nil when none).
	First *Problem
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

type chainState struct {
	seq, streamSeq uint64
	hash           string
	// missing maps each sequence reported missing to its problem index,
	// and gaps each such problem to what may still fill it.
	missing map[uint64]int
	gaps    map[int]*gap
}

// gap is a run of a chain found missing, which later records may fill.
type gap struct {
	from, to uint64 // the run
	next     uint64 // the sequence the next late record must have
	hash     string // the hash its prev must be
	after    string // the prev of the event after the run
	at       uint64 // the stream seq of that event
	broken   bool   // filled out of order, or by an altered record
}

// ChainVerifier checks each source's hash chain over records given in
// stream order (Add), for a stream (Verify) or any other copy of one, such
// as an exported file: sequence continuity, prev linkage and each event's
// hash. The first event of each source is trusted as the anchor, so a
// range starting mid-stream verifies. A missing run later found further on
// in order, linked to the events before and after it, is late (Report.Late,
// not a problem); found otherwise, its events are reported as reordered,
// not missing. Records with no hash are counted as unchained.
type ChainVerifier struct {
	rep     Report
	states  map[string]*chainState
	dropped map[int]bool
}

// NewChainVerifier returns a verifier that has seen nothing.
func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{rep: Report{Checked: make(map[string]uint64)}, states: make(map[string]*chainState), dropped: make(map[int]bool)}
}

func (v *ChainVerifier) add(p Problem) int {
	v.rep.Problems = append(v.rep.Problems, p)
	return len(v.rep.Problems) - 1
}

// Add checks one record. It reports whether the record is chained and its
// content matches its hash (false for unchained or altered records).
func (v *ChainVerifier) Add(r Record) bool {
	ev := &r.Event
	if ev.Hash == "" && ev.Seq == 0 {
		v.rep.Unchained++
		return false
	}
	v.rep.Checked[ev.Source]++
	prob := func(kind string, from, to uint64, detail string, args ...any) Problem {
		return Problem{StreamSeq: r.StreamSeq, EventID: ev.ID, Source: ev.Source, Kind: kind, From: from, To: to,
			Detail: fmt.Sprintf(detail, args...)}
	}
	altered := false
	if h, err := EventHash(ev); err != nil || h != ev.Hash {
		v.add(prob(ProblemAltered, ev.Seq, ev.Seq, "event hash does not match its content (seq %d)", ev.Seq))
		altered = true
	}
	st := v.states[ev.Source]
	if st == nil {
		v.states[ev.Source] = &chainState{seq: ev.Seq, streamSeq: r.StreamSeq, hash: ev.Hash, missing: map[uint64]int{}, gaps: map[int]*gap{}}
		return !altered
	}
	switch {
	case ev.Seq == st.seq:
		v.add(prob(ProblemDuplicate, ev.Seq, ev.Seq, "seq %d appears again (first at stream seq %d)", ev.Seq, st.streamSeq))
		return !altered
	case ev.Seq < st.seq:
		if i, ok := st.missing[ev.Seq]; ok {
			delete(st.missing, ev.Seq)
			if !stillMissing(st.missing, i) {
				v.dropped[i] = true
			}
			v.fill(st, i, r, altered, prob)
		} else {
			v.add(prob(ProblemReordered, ev.Seq, ev.Seq, "seq %d stored after seq %d (or appears twice)", ev.Seq, st.seq))
		}
		return !altered
	case ev.Seq > st.seq+1:
		i := v.add(prob(ProblemMissing, st.seq+1, ev.Seq-1, "seq %d..%d missing before seq %d", st.seq+1, ev.Seq-1, ev.Seq))
		for k := st.seq + 1; k < ev.Seq; k++ {
			st.missing[k] = i
		}
		st.gaps[i] = &gap{from: st.seq + 1, to: ev.Seq - 1, next: st.seq + 1, hash: st.hash, after: ev.Prev, at: r.StreamSeq}
	default:
		if ev.Prev != st.hash && !altered {
			v.add(prob(ProblemAltered, ev.Seq, ev.Seq, "prev of seq %d does not match the hash of seq %d (stream seq %d)", ev.Seq, st.seq, st.streamSeq))
			altered = true
		}
	}
	st.seq, st.streamSeq, st.hash = ev.Seq, r.StreamSeq, ev.Hash
	return !altered
}

// fill takes a record of the missing run of problem i: the next of the run
// and linked to the one before, it is late, and the run once complete must
// link to the event after it; otherwise the run is broken and its records
// found so far are reported as reordered.
func (v *ChainVerifier) fill(st *chainState, i int, r Record, altered bool, prob func(string, uint64, uint64, string, ...any) Problem) {
	ev := &r.Event
	g := st.gaps[i]
	if g != nil && !g.broken && !altered && ev.Seq == g.next && ev.Prev == g.hash {
		g.next, g.hash = ev.Seq+1, ev.Hash
		if g.next <= g.to {
			return
		}
		delete(st.gaps, i)
		if g.hash != g.after {
			v.add(prob(ProblemAltered, g.to+1, g.to+1, "prev of seq %d (stream seq %d) does not match the hash of seq %d, stored after it",
				g.to+1, g.at, g.to))
			return
		}
		v.rep.Late = append(v.rep.Late, prob(ProblemLate, g.from, g.to, "seq %d..%d stored after seq %d (stream seq %d), in order and linked",
			g.from, g.to, g.to+1, g.at))
		return
	}
	if g != nil && !g.broken {
		g.broken = true
		if g.next > g.from {
			v.add(prob(ProblemReordered, g.from, g.next-1, "seq %d..%d stored after seq %d", g.from, g.next-1, g.to+1))
		}
	}
	v.add(prob(ProblemReordered, ev.Seq, ev.Seq, "seq %d stored after seq %d", ev.Seq, st.seq))
}

// Report returns what was found so far, problems in stream order.
func (v *ChainVerifier) Report() Report {
	rep := v.rep
	rep.Late = append([]Problem(nil), v.rep.Late...)
	rep.Problems = make([]Problem, 0, len(v.rep.Problems))
	for i, p := range v.rep.Problems {
		if !v.dropped[i] {
			rep.Problems = append(rep.Problems, p)
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].StreamSeq < rep.Problems[j].StreamSeq })
	rep.First = nil
	if len(rep.Problems) > 0 {
		rep.First = &rep.Problems[0]
	}
	return rep
}

// Verify walks the records of s matching q through a ChainVerifier. The
// error is a read error; chain breaks are in the Report.
func Verify(ctx context.Context, s Stream, q Query) (Report, error) {
	v := NewChainVerifier()
	err := s.Read(ctx, q, func(r Record) error {
		v.Add(r)
		return nil
	})
	rep := v.Report()
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", s.Name(), err)
	}
	return rep, nil
}

func stillMissing(missing map[uint64]int, i int) bool {
	for _, j := range missing {
		if j == i {
			return true
		}
	}
	return false
}
