package auditquery

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Problem kinds of a VerifyReport. Every one is a sign of tampering (or of
// a bug that lost events); the report's Notes hold what is not.
const (
	// KindHeadCut: a chain's first events are missing although the
	// control stream says where it starts and retention does not explain
	// it.
	KindHeadCut = "head_cut"
	// KindTailCut: events are missing with only checkpoints after them:
	// the chain stops before what its last checkpoint signed.
	KindTailCut = "tail_cut"
	// KindGap: events are missing between present ones.
	KindGap = "gap"
	// KindRewritten: a checkpoint signed another hash for the event it
	// follows than the chain now has: the range before it was rewritten
	// (hashes recomputed).
	KindRewritten = "rewritten"
	// KindBadCheckpoint: a checkpoint whose signature does not verify, or
	// is made with a key the control stream does not record for its source.
	KindBadCheckpoint = "bad_checkpoint"
	// KindUnknownSource: chained events of a source the control stream
	// does not know (no agent joined with that id).
	KindUnknownSource = "unknown_source"
	// KindUnanchored: a range of events after the last checkpoint spans
	// far longer than the source's checkpoint interval: its checkpoints
	// were removed (or never written).
	KindUnanchored = "unanchored"
	// KindAltered, KindReordered, KindDuplicate are eventlog.Verify's:
	// an event whose content or prev link does not match its hash, one
	// stored after a later one, a sequence stored twice.
	KindAltered   = eventlog.ProblemAltered
	KindReordered = eventlog.ProblemReordered
	KindDuplicate = eventlog.ProblemDuplicate
	// KindLate is not a problem (VerifyReport.Late): events stored after
	// later ones of their source, in order and linked to the events around
	// them, as a publish retried after a NATS failover stores them.
	KindLate = eventlog.ProblemLate
)

// Head states (SourceReport.Head).
const (
	HeadOK         = "ok"
	HeadCut        = "cut"
	HeadRetention  = "retention"   // aged out of the stream (max age)
	HeadNotChecked = "not checked" // the range starts later (--since)
	HeadNoEvents   = "no events"
)

// unanchoredGrace is added to twice the checkpoint interval before a range
// with no checkpoint counts as unanchored.
const unanchoredGrace = 5 * time.Second

// VerifyProblem is one sign of tampering.
type VerifyProblem struct {
	Kind   string `json:"kind"`
	Source string `json:"source"`
	// From and To are the chain sequences concerned.
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Pos is where it shows: the stream sequence, or the line of a file.
	Pos     uint64 `json:"pos,omitempty"`
	EventID string `json:"event_id,omitempty"`
	Detail  string `json:"detail"`
}

// Range is a range of one chain with the times of its first and last
// event.
type Range struct {
	From      uint64    `json:"from"`
	To        uint64    `json:"to"`
	FirstTime time.Time `json:"first_time"`
	LastTime  time.Time `json:"last_time"`
}

// SourceReport is what was found of one source's chain.
type SourceReport struct {
	Source string `json:"source"`
	Kind   string `json:"kind"`
	Events uint64 `json:"events"`
	// First and Last are the lowest and highest chain sequence present.
	First uint64 `json:"first,omitempty"`
	Last  uint64 `json:"last,omitempty"`
	// Checkpoints counts checkpoint events; Verified those whose
	// signature and link check out.
	Checkpoints uint64 `json:"checkpoints"`
	Verified    uint64 `json:"verified"`
	// CoveredTo is the chain sequence of the last verified checkpoint:
	// every event up to it is signed.
	CoveredTo uint64 `json:"covered_to,omitempty"`
	// Uncovered is the most recent range no checkpoint covers yet.
	Uncovered *Range `json:"uncovered,omitempty"`
	Head      string `json:"head"`
}

// VerifyReport is the result of Verify and VerifyFile.
type VerifyReport struct {
	// Origin is what was verified: "stream TOLLGATE_AUDIT", or "file " and
	// the files' names.
	Origin   string          `json:"origin"`
	Sources  []SourceReport  `json:"sources"`
	Problems []VerifyProblem `json:"problems"`
	// Late lists runs stored out of chain order whose links hold
	// (KindLate): nothing missing or altered, not a problem.
	Late      []VerifyProblem `json:"late,omitempty"`
	Notes     []string        `json:"notes,omitempty"`
	Unchained uint64          `json:"unchained"`
}

// OK reports whether no sign of tampering was found.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// VerifyOptions say what a chain is checked against.
type VerifyOptions struct {
	// Anchors come from the control stream (LoadAnchors).
	Anchors Anchors
	// Since: only events stored (a file: written) since then; chain starts
	// are then not checked.
	Since time.Time
	// Info describes the stream, for the retention rule (nil: a file).
	Info *eventlog.StreamInfo
	// Now is when the verification runs (the retention horizon).
	Now time.Time
}

type srcState struct {
	rep        SourceReport
	firstTime  time.Time
	lastTime   time.Time
	lastEvent  uint64 // highest non-checkpoint seq present
	certs      map[string]*x509.Certificate
	lastCP     uint64 // chain seq of the last verified checkpoint (0: none)
	lastAnyCP  uint64 // chain seq of the last checkpoint, verified or not
	afterTime  time.Time
	afterFirst uint64 // first seq after lastCP
	interval   time.Duration
}

// Verifier checks audit records, given in stream order, against anchors:
// each chain's links (eventlog.ChainVerifier), every checkpoint's
// signature and the head it signed, where each chain starts, and which
// range no checkpoint covers yet.
type Verifier struct {
	opt    VerifyOptions
	roots  *x509.CertPool
	chain  *eventlog.ChainVerifier
	srcs   map[string]*srcState
	probs  []VerifyProblem
	origin string
}

// NewVerifier returns a verifier of the chains anchored by opt; origin
// names what its records come from (VerifyReport.Origin).
func NewVerifier(origin string, opt VerifyOptions) *Verifier {
	v := &Verifier{opt: opt, roots: x509.NewCertPool(), chain: eventlog.NewChainVerifier(), srcs: map[string]*srcState{}, origin: origin}
	for _, p := range opt.Anchors.HostCAs {
		v.roots.AppendCertsFromPEM([]byte(p))
	}
	if v.opt.Now.IsZero() {
		v.opt.Now = time.Now()
	}
	return v
}

func (v *Verifier) state(source string) *srcState {
	s := v.srcs[source]
	if s != nil {
		return s
	}
	s = &srcState{rep: SourceReport{Source: source, Kind: SourceUnknown}, certs: map[string]*x509.Certificate{}, interval: 10 * time.Second}
	if a := v.opt.Anchors.Sources[source]; a != nil {
		s.rep.Kind = a.Kind
		for _, p := range a.Certs {
			if c, err := pki.ParseCertPEM([]byte(p)); err == nil {
				s.certs[c.SerialNumber.Text(16)] = c
			}
		}
	}
	v.srcs[source] = s
	return s
}

func (v *Verifier) problem(kind, source string, from, to, pos uint64, id, detail string, args ...any) {
	v.probs = append(v.probs, VerifyProblem{Kind: kind, Source: source, From: from, To: to, Pos: pos, EventID: id, Detail: fmt.Sprintf(detail, args...)})
}

// Add checks one record (pos: its stream sequence or file line).
func (v *Verifier) Add(r eventlog.Record) {
	intact := v.chain.Add(r)
	ev := &r.Event
	if ev.Hash == "" && ev.Seq == 0 {
		return
	}
	s := v.state(ev.Source)
	s.rep.Events++
	if s.rep.First == 0 || ev.Seq < s.rep.First {
		s.rep.First, s.firstTime = ev.Seq, ev.Time
	}
	if ev.Seq > s.rep.Last {
		s.rep.Last, s.lastTime = ev.Seq, ev.Time
	}
	if ev.Type != schemas.TypeAuditCheckpoint {
		s.lastEvent = max(s.lastEvent, ev.Seq)
	} else {
		s.rep.Checkpoints++
		ok := s.rep.Kind != SourceUnknown && v.checkpoint(s, r, intact)
		s.lastAnyCP = ev.Seq
		if ok {
			s.rep.Verified++
			s.lastCP, s.rep.CoveredTo = ev.Seq, ev.Seq
			s.afterFirst = 0
			return
		}
	}
	if ev.Seq > s.lastCP && s.afterFirst == 0 {
		s.afterFirst, s.afterTime = ev.Seq, ev.Time
	}
}

// checkpoint checks one checkpoint: its signature, with a host cert the
// control stream records for the source, and that the head it signed is
// the event it follows in the chain.
func (v *Verifier) checkpoint(s *srcState, r eventlog.Record, intact bool) bool {
	ev := &r.Event
	// The range this checkpoint vouches for starts after the one before
	// it (or at the chain's first event here).
	from := s.lastAnyCP + 1
	if s.lastAnyCP == 0 {
		from = s.rep.First
	}
	bad := func(kind, detail string, args ...any) bool {
		v.problem(kind, ev.Source, from, ev.Seq-1, r.StreamSeq, ev.ID, detail, args...)
		return false
	}
	data, err := schemas.Decode(*ev)
	cp, ok := data.(*schemas.AuditCheckpoint)
	if err != nil || !ok {
		return bad(KindBadCheckpoint, "checkpoint at seq %d does not decode: %v", ev.Seq, err)
	}
	if cp.IntervalMS > 0 {
		s.interval = time.Duration(cp.IntervalMS) * time.Millisecond
	}
	if cp.Source != ev.Source {
		return bad(KindBadCheckpoint, "checkpoint at seq %d signs for source %q", ev.Seq, cp.Source)
	}
	cert := s.certs[cp.CertSerial]
	if cert == nil {
		return bad(KindBadCheckpoint, "checkpoint at seq %d is signed with host cert %s, which the control stream does not record for %s: "+
			"forged (seq %d..%d cannot be vouched for), or the agent joined before host certs were recorded and has not renewed since",
			ev.Seq, cp.CertSerial, ev.Source, from, ev.Seq-1)
	}
	if err := v.certOK(cert, ev.Source, cp.Time); err != nil {
		return bad(KindBadCheckpoint, "checkpoint at seq %d: host cert %s: %v", ev.Seq, cp.CertSerial, err)
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Signature)
	if err == nil {
		err = eventlog.VerifyCheckpoint(cert.PublicKey, cp.Alg, eventlog.CheckpointMessage(cp.Source, cp.Seq, cp.Hash, cp.Time), sig)
	}
	if err != nil {
		return bad(KindBadCheckpoint, "checkpoint at seq %d: %v: seq %d..%d rewritten, or the checkpoint forged", ev.Seq, err, from, ev.Seq-1)
	}
	if cp.Seq != ev.Seq-1 || cp.Hash != ev.Prev {
		return bad(KindRewritten, "checkpoint at seq %d signed seq %d with hash %.12s…; the chain has seq %d with hash %.12s…: "+
			"seq %d..%d rewritten (hashes recomputed)", ev.Seq, cp.Seq, cp.Hash, ev.Seq-1, ev.Prev, from, ev.Seq-1)
	}
	// The signature vouches for the head; the checkpoint's own content
	// must match its hash for the chain to go on from it.
	return intact
}

// certOK checks that cert is the source's host cert from the host CA,
// valid when the checkpoint was signed.
func (v *Verifier) certOK(cert *x509.Certificate, source string, at time.Time) error {
	if cert.Subject.CommonName != source {
		return fmt.Errorf("issued to %q, not %q", cert.Subject.CommonName, source)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: v.roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("not a host cert of the host CA at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// Report returns the findings: chain breaks classified (head cut, tail
// cut, gap), checkpoint problems, chains that are not where the control
// stream says, and each chain's uncovered range.
func (v *Verifier) Report() VerifyReport {
	rep := VerifyReport{Origin: v.origin, Problems: append([]VerifyProblem{}, v.probs...)}
	chain := v.chain.Report()
	rep.Unchained = chain.Unchained
	for _, p := range chain.Late {
		rep.Late = append(rep.Late, VerifyProblem{Kind: KindLate, Source: p.Source, From: p.From, To: p.To, Pos: p.StreamSeq, EventID: p.EventID, Detail: p.Detail})
	}
	for _, p := range chain.Problems {
		kind := p.Kind
		detail := p.Detail
		if kind == eventlog.ProblemMissing {
			kind = KindGap
			if s := v.srcs[p.Source]; s != nil && s.lastEvent < p.To {
				kind = KindTailCut
				detail = fmt.Sprintf("seq %d..%d missing, with only checkpoints after them: the chain stops before its last checkpoint (seq %d), "+
					"which signed the chain up to seq %d", p.From, p.To, s.rep.Last, s.rep.Last-1)
			}
		}
		rep.Problems = append(rep.Problems, VerifyProblem{Kind: kind, Source: p.Source, From: p.From, To: p.To, Pos: p.StreamSeq, EventID: p.EventID, Detail: detail})
	}
	for _, id := range v.opt.Anchors.SourceIDs() {
		v.state(id)
	}
	ids := make([]string, 0, len(v.srcs))
	for id := range v.srcs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := v.srcs[id]
		v.head(&rep, s)
		v.uncovered(&rep, s)
		rep.Sources = append(rep.Sources, s.rep)
	}
	if in := v.opt.Info; in != nil && (!in.DenyDelete || !in.DenyPurge) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the stream allows deleting (%t) or purging (%t) messages: restart control to set deny_delete and deny_purge",
			!in.DenyDelete, !in.DenyPurge))
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Pos < rep.Problems[j].Pos })
	return rep
}

// head checks where a chain starts against the control stream.
func (v *Verifier) head(rep *VerifyReport, s *srcState) {
	a := v.opt.Anchors.Sources[s.rep.Source]
	switch {
	case a == nil:
		s.rep.Head = HeadNotChecked
		rep.Problems = append(rep.Problems, VerifyProblem{Kind: KindUnknownSource, Source: s.rep.Source, From: s.rep.First, To: s.rep.Last,
			Detail: fmt.Sprintf("%d chained events of %s, which no agent joined as (control stream): forged, or from another cluster", s.rep.Events, s.rep.Source)})
		return
	case !v.opt.Since.IsZero():
		s.rep.Head = HeadNotChecked
		return
	case s.rep.Events == 0:
		s.rep.Head = HeadNoEvents
		if v.retention(a.Start) {
			s.rep.Head = HeadRetention
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s (%s since %s) has no audit events here", s.rep.Source, s.rep.Kind, a.Start.UTC().Format(time.RFC3339)))
		return
	case s.rep.First <= 1:
		s.rep.Head = HeadOK
		return
	}
	if v.retention(a.Start) {
		s.rep.Head = HeadRetention
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: seq 1..%d are older than the stream's first record (seq %d, stored %s): aged out (max age %s)",
			s.rep.Source, s.rep.First-1, v.opt.Info.FirstSeq, v.opt.Info.FirstTime.UTC().Format(time.RFC3339), v.opt.Info.MaxAge))
		return
	}
	s.rep.Head = HeadCut
	why := "the stream keeps everything since"
	switch {
	case v.opt.Info == nil:
		why = "if this copy starts later (an export added after), verify it with --since"
	case v.opt.Info.MaxAge > 0:
		why = fmt.Sprintf("within the stream's max age (%s), so retention does not explain it", v.opt.Info.MaxAge)
	}
	rep.Problems = append(rep.Problems, VerifyProblem{Kind: KindHeadCut, Source: s.rep.Source, From: 1, To: s.rep.First - 1,
		Detail: fmt.Sprintf("seq 1..%d missing: the chain began at %s (%s, control stream), %s; its first event here is seq %d",
			s.rep.First-1, a.Start.UTC().Format(time.RFC3339), startWhat(s.rep.Kind), why, s.rep.First)})
}

func startWhat(kind string) string {
	if kind == SourceControl {
		return "cluster created"
	}
	return "agent joined"
}

// retention says whether events of a chain that began at start may have
// aged out of the stream: the stream lost records at its head, and start
// is older than its max age.
func (v *Verifier) retention(start time.Time) bool {
	in := v.opt.Info
	return in != nil && in.FirstSeq > 1 && in.MaxAge > 0 && start.Before(v.opt.Now.Add(-in.MaxAge))
}

// uncovered reports the range after the last verified checkpoint, and
// flags it when it spans far longer than the source's interval.
func (v *Verifier) uncovered(rep *VerifyReport, s *srcState) {
	if s.rep.Events == 0 || s.rep.Last <= s.lastCP || s.afterFirst == 0 {
		return
	}
	u := &Range{From: s.afterFirst, To: s.rep.Last, FirstTime: s.afterTime, LastTime: s.lastTime}
	s.rep.Uncovered = u
	if s.rep.Kind == SourceUnknown {
		return
	}
	if limit := 2*s.interval + unanchoredGrace; u.LastTime.Sub(u.FirstTime) > limit {
		rep.Problems = append(rep.Problems, VerifyProblem{Kind: KindUnanchored, Source: s.rep.Source, From: u.From, To: u.To,
			Detail: fmt.Sprintf("seq %d..%d span %s without a checkpoint (the source signs at least every %s while it writes): checkpoints removed, or never written",
				u.From, u.To, u.LastTime.Sub(u.FirstTime).Round(time.Millisecond), s.interval)})
	}
}

// VerifiedStream is what Verify reads: the stream's records, what it says
// of itself (for the retention rule) and its name (for the report).
type VerifiedStream interface {
	Name() string
	eventlog.Reader
	eventlog.Informer
}

// Verify checks the audit records of s (those stored since opt.Since)
// against opt.Anchors; opt.Info, when nil, is read from s. Tampering is in
// the report; the error is a read error.
func Verify(ctx context.Context, s VerifiedStream, opt VerifyOptions) (VerifyReport, error) {
	if opt.Info == nil {
		info, err := s.Info(ctx)
		if err != nil {
			return VerifyReport{}, fmt.Errorf("verify %s: %w", s.Name(), err)
		}
		opt.Info = &info
	}
	v := NewVerifier("stream "+s.Name(), opt)
	err := s.Read(ctx, eventlog.Query{FromTime: opt.Since}, func(r eventlog.Record) error {
		v.Add(r)
		return nil
	})
	rep := v.Report()
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", s.Name(), err)
	}
	return rep, nil
}
