package logtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Factory makes a new, empty stream for one test.
type Factory func(t *testing.T, name string) eventlog.Stream

type suite struct {
	newStream Factory
	ids       *eventlog.ULIDs
}

// Run runs every conformance test against streams made by newStream.
func Run(t *testing.T, newStream Factory) {
	s := &suite{newStream: newStream, ids: eventlog.NewULIDs()}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Empty", s.testEmpty},
		{"AppendOrder", s.testAppendOrder},
		{"SubjectFilters", s.testSubjectFilters},
		{"SeqBoundsAndLimit", s.testSeqBounds},
		{"TimeBounds", s.testTimeBounds},
		{"Dedupe", s.testDedupe},
		{"ExpectLastSubjectSeq", s.testExpect},
		{"ExpectLastSeqOn", s.testExpectOn},
		{"ConcurrentExpect", s.testConcurrentExpect},
		{"ReadUpperBound", s.testReadUpperBound},
		{"ReadCallbackError", s.testReadCallbackError},
		{"FollowConcurrent", s.testFollowConcurrent},
		{"FollowFilteredLimit", s.testFollowFilteredLimit},
		{"TooLarge", s.testTooLarge},
		{"AppendBatch", s.testAppendBatch},
		{"AppendEncoded", s.testAppendEncoded},
		{"Info", s.testInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t)
		})
	}
}

func (s *suite) stream(t *testing.T) eventlog.Stream {
	t.Helper()
	st := s.newStream(t, eventlog.ControlStream)
	require.Equal(t, eventlog.ControlStream, st.Name())
	return st
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// event makes a control event on tollgate.control.<kind>.<name>.
func (s *suite) event(kind, name string, n int) eventlog.Event {
	now := time.Now().UTC()
	return eventlog.Event{
		ID:      s.ids.NewID(now),
		Type:    kind + ".updated",
		V:       1,
		Time:    now,
		Source:  "control",
		Actor:   "logtest",
		Subject: eventlog.ControlSubject(kind, name),
		Data:    json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
	}
}

func readAll(t *testing.T, st eventlog.Stream, q eventlog.Query) []eventlog.Record {
	t.Helper()
	var out []eventlog.Record
	require.NoError(t, st.Read(ctxT(t), q, func(r eventlog.Record) error {
		out = append(out, r)
		return nil
	}))
	return out
}

// Seqs returns the stream sequences of recs.
func Seqs(recs []eventlog.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.StreamSeq
	}
	return out
}

func requireSameEvent(t *testing.T, want, got eventlog.Event) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Type, got.Type)
	require.Equal(t, want.V, got.V)
	require.True(t, want.Time.Equal(got.Time), "time %v != %v", want.Time, got.Time)
	require.Equal(t, want.Source, got.Source)
	require.Equal(t, want.Actor, got.Actor)
	require.Equal(t, want.Subject, got.Subject)
	require.JSONEq(t, string(want.Data), string(got.Data))
	require.Equal(t, want.Seq, got.Seq)
	require.Equal(t, want.Prev, got.Prev)
	require.Equal(t, want.Hash, got.Hash)
}

func (s *suite) testEmpty(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	last, err := st.LastSeq(ctx)
	require.NoError(t, err)
	require.Zero(t, last)
	ls, err := st.LastSubjectSeq(ctx, eventlog.ControlSubject(eventlog.KindRole, "x"))
	require.NoError(t, err)
	require.Zero(t, ls)
	require.Empty(t, readAll(t, st, eventlog.Query{}))
}

func (s *suite) testAppendOrder(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	var evs []eventlog.Event
	var seqs []uint64
	for i := range 5 {
		ev := s.event(eventlog.KindUser, fmt.Sprintf("u%d", i%2), i)
		if i == 3 {
			ev.Seq, ev.Prev, ev.Hash = 7, "abc", "def"
		}
		seq, err := st.Append(ctx, ev)
		require.NoError(t, err)
		if len(seqs) > 0 {
			require.Greater(t, seq, seqs[len(seqs)-1])
		}
		evs = append(evs, ev)
		seqs = append(seqs, seq)
	}
	recs := readAll(t, st, eventlog.Query{})
	require.Equal(t, seqs, Seqs(recs))
	for i := range recs {
		requireSameEvent(t, evs[i], recs[i].Event)
	}
	last, err := st.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, seqs[4], last)
	ls, err := st.LastSubjectSeq(ctx, eventlog.ControlSubject(eventlog.KindUser, "u1"))
	require.NoError(t, err)
	require.Equal(t, seqs[3], ls)
	ls, err = st.LastSubjectSeq(ctx, eventlog.ControlSubject(eventlog.KindUser, "u0"))
	require.NoError(t, err)
	require.Equal(t, seqs[4], ls)
}

func (s *suite) testSubjectFilters(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	kinds := []struct{ kind, name string }{
		{eventlog.KindRole, "a"}, {eventlog.KindUser, "a"}, {eventlog.KindRole, "b"},
		{eventlog.KindDatabase, "roach"}, {eventlog.KindRole, "a"}, {eventlog.KindUser, "b"},
	}
	var seqs []uint64
	for i, k := range kinds {
		seq, err := st.Append(ctx, s.event(k.kind, k.name, i))
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	tests := []struct {
		name     string
		subjects []string
		want     []int
	}{
		{"all", nil, []int{0, 1, 2, 3, 4, 5}},
		{"full wildcard", []string{"tollgate.control.>"}, []int{0, 1, 2, 3, 4, 5}},
		{"exact", []string{"tollgate.control.role.a"}, []int{0, 4}},
		{"star", []string{"tollgate.control.role.*"}, []int{0, 2, 4}},
		{"star kind", []string{"tollgate.control.*.a"}, []int{0, 1, 4}},
		{"two filters", []string{"tollgate.control.user.>", "tollgate.control.database.roach"}, []int{1, 3, 5}},
		{"none", []string{"tollgate.control.lock.*"}, nil},
	}
	for _, tt := range tests {
		var want []uint64
		for _, i := range tt.want {
			want = append(want, seqs[i])
		}
		got := Seqs(readAll(t, st, eventlog.Query{Subjects: tt.subjects}))
		if len(want) == 0 {
			require.Empty(t, got, tt.name)
			continue
		}
		require.Equal(t, want, got, tt.name)
	}
}

func (s *suite) testSeqBounds(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	var seqs []uint64
	for i := range 10 {
		kind := eventlog.KindRole
		if i%2 == 1 {
			kind = eventlog.KindUser
		}
		seq, err := st.Append(ctx, s.event(kind, "x", i))
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	tests := []struct {
		name string
		q    eventlog.Query
		want []uint64
	}{
		{"from", eventlog.Query{FromSeq: seqs[6]}, seqs[6:]},
		{"to", eventlog.Query{ToSeq: seqs[2]}, seqs[:3]},
		{"from to", eventlog.Query{FromSeq: seqs[3], ToSeq: seqs[5]}, seqs[3:6]},
		{"limit", eventlog.Query{Limit: 4}, seqs[:4]},
		{"from limit", eventlog.Query{FromSeq: seqs[8], Limit: 4}, seqs[8:]},
		{"filter from limit", eventlog.Query{Subjects: []string{"tollgate.control.user.*"}, FromSeq: seqs[2], Limit: 2},
			[]uint64{seqs[3], seqs[5]}},
		{"filter to", eventlog.Query{Subjects: []string{"tollgate.control.role.x"}, ToSeq: seqs[4]},
			[]uint64{seqs[0], seqs[2], seqs[4]}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Seqs(readAll(t, st, tt.q)), tt.name)
	}
	require.Empty(t, readAll(t, st, eventlog.Query{FromSeq: seqs[9] + 1}))
}

// waitPast polls until the clock has moved past ts.
func waitPast(t *testing.T, ts time.Time) {
	require.Eventually(t, func() bool { return time.Now().After(ts) }, 10*time.Second, time.Millisecond)
}

func (s *suite) testTimeBounds(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	appendN := func(n int) []uint64 {
		var out []uint64
		for i := range n {
			seq, err := st.Append(ctx, s.event(eventlog.KindRole, "t", i))
			require.NoError(t, err)
			out = append(out, seq)
		}
		return out
	}
	b1 := appendN(3)
	t1 := time.Now()
	waitPast(t, t1)
	b2 := appendN(2)
	t2 := time.Now()
	waitPast(t, t2)
	b3 := appendN(2)

	cat := func(parts ...[]uint64) []uint64 {
		var out []uint64
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	require.Equal(t, cat(b2, b3), Seqs(readAll(t, st, eventlog.Query{FromTime: t1})))
	require.Equal(t, cat(b1, b2), Seqs(readAll(t, st, eventlog.Query{ToTime: t2})))
	require.Equal(t, b2, Seqs(readAll(t, st, eventlog.Query{FromTime: t1, ToTime: t2})))
	require.Equal(t, b2[:1], Seqs(readAll(t, st, eventlog.Query{FromTime: t1, Limit: 1})))
}

func (s *suite) testDedupe(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	ev := s.event(eventlog.KindRole, "d", 1)
	seq1, err := st.Append(ctx, ev)
	require.NoError(t, err)
	other, err := st.Append(ctx, s.event(eventlog.KindRole, "other", 2))
	require.NoError(t, err)
	seq2, err := st.Append(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, seq1, seq2, "a duplicate returns the first sequence")
	// A retried conditional append (its event still the last on its subject)
	// is a duplicate too, not a conflict.
	seq3, err := st.Append(ctx, ev, eventlog.ExpectLastSubjectSeq(0))
	require.NoError(t, err)
	require.Equal(t, seq1, seq3)
	last, err := st.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, other, last)
	require.Len(t, readAll(t, st, eventlog.Query{}), 2)
}

// testExpectOn: the expectation is about the last record on any subject
// of a filter, so two writers chaining over the filter's subjects cannot
// both append onto one head.
func (s *suite) testExpectOn(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	roles := eventlog.ControlPrefix + "." + eventlog.KindRole + ".*"
	s1, err := st.Append(ctx, s.event(eventlog.KindRole, "a", 1), eventlog.ExpectLastSeqOn(roles, 0))
	require.NoError(t, err)
	// Another subject of the filter: it must name role a's record as the head.
	_, err = st.Append(ctx, s.event(eventlog.KindRole, "b", 2), eventlog.ExpectLastSeqOn(roles, 0))
	require.ErrorIs(t, err, eventlog.ErrConflict)
	s2, err := st.Append(ctx, s.event(eventlog.KindRole, "b", 3), eventlog.ExpectLastSeqOn(roles, s1))
	require.NoError(t, err)
	// A subject outside the filter does not move its head.
	_, err = st.Append(ctx, s.event(eventlog.KindUser, "u", 4))
	require.NoError(t, err)
	_, err = st.Append(ctx, s.event(eventlog.KindRole, "a", 5), eventlog.ExpectLastSeqOn(roles, s1))
	require.ErrorIs(t, err, eventlog.ErrConflict)
	s3, err := st.Append(ctx, s.event(eventlog.KindRole, "c", 6), eventlog.ExpectLastSeqOn(roles, s2))
	require.NoError(t, err)
	require.Greater(t, s3, s2)
	require.Len(t, readAll(t, st, eventlog.Query{Subjects: []string{roles}}), 3)
}

func (s *suite) testExpect(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	subjA := eventlog.ControlSubject(eventlog.KindRole, "a")
	s1, err := st.Append(ctx, s.event(eventlog.KindRole, "a", 1), eventlog.ExpectLastSubjectSeq(0))
	require.NoError(t, err)
	_, err = st.Append(ctx, s.event(eventlog.KindRole, "a", 2), eventlog.ExpectLastSubjectSeq(0))
	require.ErrorIs(t, err, eventlog.ErrConflict)
	// Another subject moving does not disturb role a's expectation.
	_, err = st.Append(ctx, s.event(eventlog.KindRole, "b", 3), eventlog.ExpectLastSubjectSeq(0))
	require.NoError(t, err)
	s2, err := st.Append(ctx, s.event(eventlog.KindRole, "a", 4), eventlog.ExpectLastSubjectSeq(s1))
	require.NoError(t, err)
	_, err = st.Append(ctx, s.event(eventlog.KindRole, "a", 5), eventlog.ExpectLastSubjectSeq(s1))
	require.ErrorIs(t, err, eventlog.ErrConflict)
	_, err = st.Append(ctx, s.event(eventlog.KindRole, "a", 6), eventlog.ExpectLastSubjectSeq(s2+100))
	require.ErrorIs(t, err, eventlog.ErrConflict)
	ls, err := st.LastSubjectSeq(ctx, subjA)
	require.NoError(t, err)
	require.Equal(t, s2, ls)
	require.Len(t, readAll(t, st, eventlog.Query{Subjects: []string{subjA}}), 2)
}

func (s *suite) testConcurrentExpect(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	for round := range 10 {
		name := fmt.Sprintf("r%d", round)
		subj := eventlog.ControlSubject(eventlog.KindRole, name)
		base, err := st.Append(ctx, s.event(eventlog.KindRole, name, 0))
		require.NoError(t, err)
		evs := []eventlog.Event{s.event(eventlog.KindRole, name, 1), s.event(eventlog.KindRole, name, 2)}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 2 {
			wg.Go(func() {
				<-start
				_, errs[i] = st.Append(ctx, evs[i], eventlog.ExpectLastSubjectSeq(base))
			})
		}
		close(start)
		wg.Wait()
		ok, conflict := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, eventlog.ErrConflict):
				conflict++
			default:
				t.Fatalf("round %d: unexpected error: %v", round, err)
			}
		}
		require.Equal(t, 1, ok, "round %d", round)
		require.Equal(t, 1, conflict, "round %d", round)
		require.Len(t, readAll(t, st, eventlog.Query{Subjects: []string{subj}}), 2)
	}
}

func (s *suite) testReadUpperBound(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	var seqs []uint64
	for i := range 3 {
		seq, err := st.Append(ctx, s.event(eventlog.KindUser, "ub", i))
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	var got []uint64
	err := st.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if len(got) == 0 {
			for i := range 3 {
				if _, err := st.Append(ctx, s.event(eventlog.KindUser, "ub", 10+i)); err != nil {
					return err
				}
			}
		}
		got = append(got, r.StreamSeq)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, seqs, got, "Read stops at the last record present when it was called")
	require.Len(t, readAll(t, st, eventlog.Query{}), 6)
}

func (s *suite) testReadCallbackError(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	for i := range 5 {
		_, err := st.Append(ctx, s.event(eventlog.KindUser, "cb", i))
		require.NoError(t, err)
	}
	stop := errors.New("stop here")
	n := 0
	err := st.Read(ctx, eventlog.Query{}, func(eventlog.Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 2, n)
}

func (s *suite) testFollowConcurrent(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	const before, writers, perWriter = 20, 4, 50
	want := make(map[string]bool)
	var wantMu sync.Mutex
	for i := range before {
		ev := s.event(eventlog.KindUser, "pre", i)
		_, err := st.Append(ctx, ev)
		require.NoError(t, err)
		want[ev.ID] = true
	}

	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var got []eventlog.Record
	done := make(chan error, 1)
	go func() {
		done <- st.Follow(fctx, eventlog.Query{}, func(r eventlog.Record) error {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
			return nil
		})
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				ev := s.event(eventlog.KindUser, fmt.Sprintf("w%d", w), i)
				wantMu.Lock()
				want[ev.ID] = true
				wantMu.Unlock()
				if i%10 == 0 {
					if _, err := st.AppendBatch(ctx, []eventlog.Event{ev}); err != nil {
						errs <- err
						return
					}
					continue
				}
				if _, err := st.Append(ctx, ev); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	total := before + writers*perWriter
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= total
	}, 30*time.Second, 5*time.Millisecond)
	// Give a duplicate a chance to show up after the last expected record:
	// one more append must arrive right after it.
	marker := s.event(eventlog.KindUser, "marker", 0)
	markerSeq, err := st.Append(ctx, marker)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1].StreamSeq >= markerSeq
	}, 30*time.Second, 5*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, total+1)
	seen := make(map[string]bool)
	for i, r := range got {
		if i > 0 {
			require.Greater(t, r.StreamSeq, got[i-1].StreamSeq, "in order, no duplicate")
		}
		require.False(t, seen[r.Event.ID], "duplicate %s", r.Event.ID)
		seen[r.Event.ID] = true
	}
	for id := range want {
		require.True(t, seen[id], "missing %s", id)
	}
	require.Equal(t, marker.ID, got[len(got)-1].Event.ID)
}

func (s *suite) testFollowFilteredLimit(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	var seqs []uint64
	for i := range 4 {
		kind := eventlog.KindRole
		if i%2 == 1 {
			kind = eventlog.KindLock
		}
		seq, err := st.Append(ctx, s.event(kind, "f", i))
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	// Follow from the second record, locks only, until 3 records: two are
	// live appends.
	var got []uint64
	done := make(chan error, 1)
	var mu sync.Mutex
	go func() {
		done <- st.Follow(ctx, eventlog.Query{Subjects: []string{"tollgate.control.lock.>"}, FromSeq: seqs[1] + 1, Limit: 3},
			func(r eventlog.Record) error {
				mu.Lock()
				got = append(got, r.StreamSeq)
				mu.Unlock()
				return nil
			})
	}()
	var live []uint64
	for i := range 6 {
		kind := eventlog.KindRole
		if i%2 == 1 {
			kind = eventlog.KindLock
		}
		seq, err := st.Append(ctx, s.event(kind, "f", 10+i))
		require.NoError(t, err)
		if kind == eventlog.KindLock {
			live = append(live, seq)
		}
	}
	select {
	case err := <-done:
		require.NoError(t, err, "Follow returns nil once Limit records were delivered")
	case <-time.After(30 * time.Second):
		t.Fatal("Follow did not return after Limit records")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []uint64{seqs[3], live[0], live[1]}, got)
}

func (s *suite) testTooLarge(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	big := s.event(eventlog.KindRole, "big", 0)
	big.Data = json.RawMessage(`{"s":"` + strings.Repeat("x", eventlog.DefaultMaxEventSize) + `"}`)
	_, err := st.Append(ctx, big)
	require.ErrorIs(t, err, eventlog.ErrTooLarge)
	_, err = st.AppendBatch(ctx, []eventlog.Event{big})
	require.ErrorIs(t, err, eventlog.ErrTooLarge)

	fits := s.event(eventlog.KindRole, "fits", 0)
	fits.Data = json.RawMessage(`{"s":"` + strings.Repeat("x", eventlog.DefaultMaxEventSize-1024) + `"}`)
	seq, err := st.Append(ctx, fits)
	require.NoError(t, err)
	recs := readAll(t, st, eventlog.Query{})
	require.Equal(t, []uint64{seq}, Seqs(recs))
	requireSameEvent(t, fits, recs[0].Event)
}

func (s *suite) testAppendBatch(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	first, err := st.Append(ctx, s.event(eventlog.KindUser, "b", -1))
	require.NoError(t, err)
	var evs []eventlog.Event
	for i := range 200 {
		evs = append(evs, s.event(eventlog.KindUser, fmt.Sprintf("b%d", i%7), i))
	}
	seqs, err := st.AppendBatch(ctx, evs)
	require.NoError(t, err)
	require.Len(t, seqs, len(evs))
	for i, seq := range seqs {
		require.Equal(t, first+1+uint64(i), seq)
	}
	recs := readAll(t, st, eventlog.Query{FromSeq: first + 1})
	require.Len(t, recs, len(evs))
	for i := range recs {
		require.Equal(t, seqs[i], recs[i].StreamSeq)
		requireSameEvent(t, evs[i], recs[i].Event)
	}
	// A batch repeating stored ids stores nothing new and returns the
	// original sequences.
	again, err := st.AppendBatch(ctx, evs[:5])
	require.NoError(t, err)
	require.Equal(t, seqs[:5], again)
	empty, err := st.AppendBatch(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, empty)
	last, err := st.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, seqs[len(seqs)-1], last)
}

// testAppendEncoded: the encodings are what is stored, in order, a retried
// id is stored once, and an encoding over the bound is refused.
func (s *suite) testAppendEncoded(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	c := eventlog.NewChainer(0, "")
	var evs []eventlog.Event
	var raw [][]byte
	for i := range 50 {
		ev := s.event(eventlog.KindUser, fmt.Sprintf("e%d", i%3), i)
		require.NoError(t, c.Next(&ev))
		evs = append(evs, ev)
		raw = append(raw, eventlog.AppendJSON(nil, &ev, true))
	}
	require.NoError(t, st.AppendEncoded(ctx, evs, raw))
	require.NoError(t, st.AppendEncoded(ctx, evs[:5], raw[:5]), "a retry stores nothing new")
	require.NoError(t, st.AppendEncoded(ctx, nil, nil))
	recs := readAll(t, st, eventlog.Query{})
	require.Len(t, recs, len(evs))
	for i := range recs {
		requireSameEvent(t, evs[i], recs[i].Event)
	}
	require.Error(t, st.AppendEncoded(ctx, evs[:2], raw[:1]), "lengths must match")
	big := s.event(eventlog.KindUser, "big", 0)
	big.Data = json.RawMessage(`{"s":"` + strings.Repeat("x", eventlog.DefaultMaxEventSize) + `"}`)
	err := st.AppendEncoded(ctx, []eventlog.Event{big}, [][]byte{eventlog.AppendJSON(nil, &big, true)})
	require.ErrorIs(t, err, eventlog.ErrTooLarge)
}

// testInfo: Info's sequences follow what is stored, and the stream refuses
// deletes and purges (both of Tollgate's streams are made so).
func (s *suite) testInfo(t *testing.T) {
	st := s.stream(t)
	ctx := ctxT(t)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	require.Zero(t, info.FirstSeq, "empty")
	require.Zero(t, info.LastSeq, "empty")
	require.True(t, info.FirstTime.IsZero(), "empty")
	require.True(t, info.DenyDelete, "deletes refused")
	require.True(t, info.DenyPurge, "purges refused")
	_, err = st.AppendBatch(ctx, []eventlog.Event{s.event(eventlog.KindRole, "a", 1), s.event(eventlog.KindRole, "b", 2)})
	require.NoError(t, err)
	info, err = st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), info.FirstSeq)
	require.Equal(t, uint64(2), info.LastSeq)
	require.False(t, info.FirstTime.IsZero(), "the first record's stored time")
}
