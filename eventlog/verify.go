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
	// First is the earliest problem (nil when none).
	First *Problem
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

type chainState struct {
	seq, streamSeq uint64
	hash           string
	// missing maps each sequence reported missing to its problem index.
	missing map[uint64]int
}

// ChainVerifier checks each source's hash chain over records given in
// stream order (Add), for a stream (Verify) or any other copy of one, such
// as an exported file: sequence continuity, prev linkage and each event's
// hash. The first event of each source is trusted as the anchor, so a
// range starting mid-stream verifies. A missing event later found further
// on is reported as reordered, not missing. Records with no hash are
// counted as unchained.
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
		v.states[ev.Source] = &chainState{seq: ev.Seq, streamSeq: r.StreamSeq, hash: ev.Hash, missing: map[uint64]int{}}
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
			v.add(prob(ProblemReordered, ev.Seq, ev.Seq, "seq %d stored after seq %d", ev.Seq, st.seq))
		} else {
			v.add(prob(ProblemReordered, ev.Seq, ev.Seq, "seq %d stored after seq %d (or appears twice)", ev.Seq, st.seq))
		}
		return !altered
	case ev.Seq > st.seq+1:
		i := v.add(prob(ProblemMissing, st.seq+1, ev.Seq-1, "seq %d..%d missing before seq %d", st.seq+1, ev.Seq-1, ev.Seq))
		for k := st.seq + 1; k < ev.Seq; k++ {
			st.missing[k] = i
		}
	default:
		if ev.Prev != st.hash && !altered {
			v.add(prob(ProblemAltered, ev.Seq, ev.Seq, "prev of seq %d does not match the hash of seq %d (stream seq %d)", ev.Seq, st.seq, st.streamSeq))
			altered = true
		}
	}
	st.seq, st.streamSeq, st.hash = ev.Seq, r.StreamSeq, ev.Hash
	return !altered
}

// Report returns what was found so far, problems in stream order.
func (v *ChainVerifier) Report() Report {
	rep := v.rep
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
