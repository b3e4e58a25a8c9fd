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

// Verify walks the records of s matching q and checks each source's hash
// chain: sequence continuity, prev linkage and each event's hash. The first
// event of each source in the range is trusted as the anchor, so a range
// starting mid-stream verifies. A missing event later found further on is
// reported as reordered, not missing. Records with no hash are counted as
// unchained. The error is a read error; chain breaks are in the Report.
func Verify(ctx context.Context, s Stream, q Query) (Report, error) {
	rep := Report{Checked: make(map[string]uint64)}
	states := make(map[string]*chainState)
	dropped := make(map[int]bool)
	add := func(p Problem) int {
		rep.Problems = append(rep.Problems, p)
		return len(rep.Problems) - 1
	}
	err := s.Read(ctx, q, func(r Record) error {
		ev := &r.Event
		if ev.Hash == "" && ev.Seq == 0 {
			rep.Unchained++
			return nil
		}
		rep.Checked[ev.Source]++
		prob := func(kind, detail string, args ...any) Problem {
			return Problem{StreamSeq: r.StreamSeq, EventID: ev.ID, Source: ev.Source, Kind: kind, Detail: fmt.Sprintf(detail, args...)}
		}
		altered := false
		if h, err := EventHash(ev); err != nil || h != ev.Hash {
			add(prob(ProblemAltered, "event hash does not match its content (seq %d)", ev.Seq))
			altered = true
		}
		st := states[ev.Source]
		if st == nil {
			states[ev.Source] = &chainState{seq: ev.Seq, streamSeq: r.StreamSeq, hash: ev.Hash, missing: map[uint64]int{}}
			return nil
		}
		switch {
		case ev.Seq == st.seq:
			add(prob(ProblemDuplicate, "seq %d appears again (first at stream seq %d)", ev.Seq, st.streamSeq))
			return nil
		case ev.Seq < st.seq:
			if i, ok := st.missing[ev.Seq]; ok {
				delete(st.missing, ev.Seq)
				if !stillMissing(st.missing, i) {
					dropped[i] = true
				}
				add(prob(ProblemReordered, "seq %d stored after seq %d", ev.Seq, st.seq))
			} else {
				add(prob(ProblemReordered, "seq %d stored after seq %d (or appears twice)", ev.Seq, st.seq))
			}
			return nil
		case ev.Seq > st.seq+1:
			i := add(prob(ProblemMissing, "seq %d..%d missing before seq %d", st.seq+1, ev.Seq-1, ev.Seq))
			for k := st.seq + 1; k < ev.Seq; k++ {
				st.missing[k] = i
			}
		default:
			if ev.Prev != st.hash && !altered {
				add(prob(ProblemAltered, "prev of seq %d does not match the hash of seq %d (stream seq %d)", ev.Seq, st.seq, st.streamSeq))
			}
		}
		st.seq, st.streamSeq, st.hash = ev.Seq, r.StreamSeq, ev.Hash
		return nil
	})
	if len(dropped) > 0 {
		kept := rep.Problems[:0]
		for i, p := range rep.Problems {
			if !dropped[i] {
				kept = append(kept, p)
			}
		}
		rep.Problems = kept
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].StreamSeq < rep.Problems[j].StreamSeq })
	if len(rep.Problems) > 0 {
		rep.First = &rep.Problems[0]
	}
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
