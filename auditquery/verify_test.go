package auditquery

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/tamper"
	"github.com/tollgate-db/tollgate/schemas"
)

// hostCA is a stand-in for the host CA: it issues host certs.
type hostCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  string
	n    int64
}

func newHostCA(t *testing.T) *hostCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "host CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: t0.Add(-24 * time.Hour), NotAfter: t0.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &hostCA{cert: c, key: k, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), n: 0x1000}
}

// issue returns a host cert for cn (its PEM) and its key.
func (ca *hostCA) issue(t *testing.T, cn string) (string, *x509.Certificate, crypto.Signer) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca.n++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.n), Subject: pkix.Name{CommonName: cn},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(30 * 24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, k.Public(), ca.key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), c, k
}

// writer writes one source's chain as an agent does: sessions, each
// followed by a signed checkpoint.
type writer struct {
	t     *testing.T
	src   string
	cert  *x509.Certificate
	key   crypto.Signer
	chain *eventlog.Chainer
	at    time.Time
	n     int
	evs   []eventlog.Event
}

func newWriter(t *testing.T, src string, cert *x509.Certificate, key crypto.Signer) *writer {
	return &writer{t: t, src: src, cert: cert, key: key, chain: eventlog.NewChainer(0, ""), at: t0}
}

func (w *writer) event(typ, sess string, data any) {
	w.t.Helper()
	raw, err := json.Marshal(data)
	require.NoError(w.t, err)
	w.n++
	w.at = w.at.Add(100 * time.Millisecond)
	ev := eventlog.Event{ID: fmt.Sprintf("%s-%04d", w.src, w.n), Type: typ, V: 1, Time: w.at, Source: w.src, Actor: "alice",
		Subject: eventlog.AuditSubject("roach", "alice", sess, typ), Data: raw}
	require.NoError(w.t, w.chain.Next(&ev))
	w.evs = append(w.evs, ev)
}

func (w *writer) checkpoint(reason string) {
	w.t.Helper()
	seq, hash := w.chain.Last()
	w.n++
	w.at = w.at.Add(time.Millisecond)
	msg := eventlog.CheckpointMessage(w.src, seq, hash, w.at)
	alg, sig, err := eventlog.SignCheckpoint(w.key, msg)
	require.NoError(w.t, err)
	raw, err := json.Marshal(schemas.AuditCheckpoint{Source: w.src, Seq: seq, Hash: hash, Time: w.at, Reason: reason, IntervalMS: 10000,
		CertSerial: w.cert.SerialNumber.Text(16), Alg: alg, Signature: base64.StdEncoding.EncodeToString(sig)})
	require.NoError(w.t, err)
	ev := eventlog.Event{ID: fmt.Sprintf("%s-%04d", w.src, w.n), Type: schemas.TypeAuditCheckpoint, V: 1, Time: w.at, Source: w.src,
		Actor: w.src, Subject: eventlog.AuditSubject("", "", w.src, schemas.TypeAuditCheckpoint), Data: raw}
	require.NoError(w.t, w.chain.Next(&ev))
	w.evs = append(w.evs, ev)
}

// session writes started, a query < with & a result, ended, checkpoint.
func (w *writer) session(sess string) {
	w.event(schemas.TypeSessionStarted, sess, schemas.SessionStarted{SessionID: sess, User: "alice", Database: "roach"})
	w.event(schemas.TypeQuery, sess, schemas.Query{SessionID: sess, N: 1, Kind: "simple", Statement: "SELECT 1 WHERE 1 < 2 & true -- " + sess})
	w.event(schemas.TypeQueryResult, sess, schemas.QueryResult{SessionID: sess, N: 1, Status: "ok", CommandTag: "SELECT 1"})
	w.event(schemas.TypeSessionEnded, sess, schemas.SessionEnded{SessionID: sess, Reason: schemas.EndClient})
	w.checkpoint(schemas.CheckpointSessionEnd)
}

type verifyRig struct {
	ca      *hostCA
	anchors Anchors
	w       *writer
}

// newVerifyRig: agent-1 joined an hour before t0 with a host cert of the
// host CA, and wrote sessions s1, s2, s3 (seq 1..15, checkpoints at 5, 10,
// 15).
func newVerifyRig(t *testing.T) *verifyRig {
	ca := newHostCA(t)
	certPEM, cert, key := ca.issue(t, "agent-1")
	r := &verifyRig{ca: ca, anchors: Anchors{HostCAs: []string{ca.pem}, Sources: map[string]*SourceAnchor{
		"agent-1": {Kind: SourceAgent, Start: t0.Add(-time.Hour), Certs: []string{certPEM}}}}}
	r.w = newWriter(t, "agent-1", cert, key)
	for _, s := range []string{"s1", "s2", "s3"} {
		r.w.session(s)
	}
	return r
}

func verifyEvents(t *testing.T, evs []eventlog.Event, opt VerifyOptions) VerifyReport {
	t.Helper()
	st := memlog.New(eventlog.AuditStream)
	_, err := st.AppendBatch(context.Background(), evs)
	require.NoError(t, err)
	if opt.Now.IsZero() {
		opt.Now = t0.Add(time.Hour)
	}
	rep, err := Verify(context.Background(), st, opt)
	require.NoError(t, err)
	return rep
}

func session(s string) func(*eventlog.Event) bool {
	return func(ev *eventlog.Event) bool { return tamper.Session(ev) == s }
}

func rewriteQuery(t *testing.T, evs []eventlog.Event, sess string) {
	t.Helper()
	for i := range evs {
		if evs[i].Type == schemas.TypeQuery && tamper.Session(&evs[i]) == sess {
			evs[i].Data = json.RawMessage(`{"session_id":"` + sess + `","n":1,"kind":"simple","statement":"SELECT 'nothing to see'"}`)
		}
	}
}

func TestVerifyTampering(t *testing.T) {
	t.Parallel()
	type want struct {
		kind     string
		from, to uint64
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event
		opt    func(o *VerifyOptions)
		wants  []want
		check  func(t *testing.T, rep VerifyReport)
	}{
		{name: "intact", check: func(t *testing.T, rep VerifyReport) {
			require.Equal(t, []SourceReport{{Source: "agent-1", Kind: SourceAgent, Events: 15, First: 1, Last: 15, Checkpoints: 3, Verified: 3,
				CoveredTo: 15, Head: HeadOK}}, rep.Sources)
		}},
		{name: "head cut: the first session removed", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			return tamper.Without(evs, session("s1"))
		}, wants: []want{{KindHeadCut, 1, 4}}},
		{name: "tail cut: the last session removed", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			return tamper.Without(evs, session("s3"))
		}, wants: []want{{KindTailCut, 11, 14}}},
		{name: "middle: a session removed", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			return tamper.Without(evs, session("s2"))
		}, wants: []want{{KindGap, 6, 9}}},
		{name: "rewritten with recomputed hashes", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			rewriteQuery(t, evs, "s2")
			require.NoError(t, tamper.Rechain(evs))
			return evs
		}, wants: []want{{KindRewritten, 6, 9}, {KindRewritten, 11, 14}}},
		{name: "rewritten, checkpoints edited to match", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			rewriteQuery(t, evs, "s2")
			require.NoError(t, tamper.Rechain(evs))
			for i := range evs {
				if evs[i].Type == schemas.TypeAuditCheckpoint && evs[i].Seq > 5 {
					var d schemas.AuditCheckpoint
					require.NoError(t, json.Unmarshal(evs[i].Data, &d))
					d.Hash = evs[i].Prev
					evs[i].Data, _ = json.Marshal(d)
				}
				require.NoError(t, tamper.Rechain(evs))
			}
			return evs
		}, wants: []want{{KindBadCheckpoint, 6, 9}, {KindBadCheckpoint, 11, 14}}},
		{name: "rewritten, signed with a key of one's own", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			rewriteQuery(t, evs, "s3")
			require.NoError(t, tamper.Rechain(evs))
			_, cert, key := newHostCA(t).issue(t, "agent-1")
			evs = evs[:len(evs)-1]
			w := &writer{t: t, src: "agent-1", cert: cert, key: key, chain: eventlog.NewChainer(evs[len(evs)-1].Seq, evs[len(evs)-1].Hash), at: evs[len(evs)-1].Time, n: 99}
			w.checkpoint(schemas.CheckpointShutdown)
			return append(evs, w.evs...)
		}, wants: []want{{KindBadCheckpoint, 11, 14}}},
		{name: "events of an agent that never joined", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			_, cert, key := r.ca.issue(t, "agent-x")
			w := newWriter(t, "agent-x", cert, key)
			w.session("sx")
			return append(evs, w.evs...)
		}, wants: []want{{KindUnknownSource, 1, 5}}},
		{name: "uncovered tail: reported, not a failure", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			r.w.event(schemas.TypeSessionStarted, "s4", schemas.SessionStarted{SessionID: "s4", User: "alice", Database: "roach"})
			r.w.event(schemas.TypeQuery, "s4", schemas.Query{SessionID: "s4", N: 1, Kind: "simple", Statement: "SELECT 4"})
			return r.w.evs
		}, check: func(t *testing.T, rep VerifyReport) {
			require.Equal(t, &Range{From: 16, To: 17, FirstTime: t0.Add(1303 * time.Millisecond), LastTime: t0.Add(1403 * time.Millisecond)}, rep.Sources[0].Uncovered)
			require.Equal(t, uint64(15), rep.Sources[0].CoveredTo)
		}},
		{name: "checkpoints removed from a long tail", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			r.w.at = r.w.at.Add(time.Minute)
			r.w.session("s4")
			r.w.at = r.w.at.Add(time.Minute)
			r.w.session("s5")
			return tamper.Without(r.w.evs, func(ev *eventlog.Event) bool {
				return ev.Type == schemas.TypeAuditCheckpoint && ev.Seq > 15
			})
		}, wants: []want{{KindUnanchored, 16, 24}, {KindGap, 20, 20}}},
		{name: "head aged out", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			return tamper.Without(evs, session("s1"))
		}, opt: func(o *VerifyOptions) {
			o.Info = &eventlog.StreamInfo{FirstSeq: 40, MaxAge: 24 * time.Hour, DenyDelete: true, DenyPurge: true}
			o.Now = t0.Add(25 * time.Hour)
		}, check: func(t *testing.T, rep VerifyReport) {
			require.Equal(t, HeadRetention, rep.Sources[0].Head)
			require.Contains(t, strings.Join(rep.Notes, "\n"), "aged out (max age 24h0m0s)")
		}},
		{name: "head cut dressed as retention", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			return tamper.Without(evs, session("s1"))
		}, opt: func(o *VerifyOptions) {
			o.Info = &eventlog.StreamInfo{FirstSeq: 40, MaxAge: 24 * time.Hour, DenyDelete: true, DenyPurge: true}
		}, wants: []want{{KindHeadCut, 1, 4}}},
		{name: "a range from the middle: head not checked", tamper: func(t *testing.T, r *verifyRig, evs []eventlog.Event) []eventlog.Event {
			return tamper.Without(evs, session("s1"))
		}, opt: func(o *VerifyOptions) { o.Since = t0.Add(time.Second) }, check: func(t *testing.T, rep VerifyReport) {
			require.Equal(t, HeadNotChecked, rep.Sources[0].Head)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newVerifyRig(t)
			evs := append([]eventlog.Event{}, r.w.evs...)
			if tt.tamper != nil {
				evs = tt.tamper(t, r, evs)
			}
			opt := VerifyOptions{Anchors: r.anchors}
			if tt.opt != nil {
				tt.opt(&opt)
			}
			rep := verifyEvents(t, evs, opt)
			var got []want
			for _, p := range rep.Problems {
				got = append(got, want{p.Kind, p.From, p.To})
				require.Equal(t, p.Kind == KindUnknownSource, p.Source == "agent-x", "%+v", p)
				require.NotEmpty(t, p.Detail)
			}
			require.Equal(t, tt.wants, got, "%+v", rep.Problems)
			require.Equal(t, len(tt.wants) == 0, rep.OK())
			if tt.check != nil {
				tt.check(t, rep)
			}
		})
	}
}

// nativeLines writes evs as the export file sink does (native format).
func nativeLines(t *testing.T, evs []eventlog.Event) string {
	t.Helper()
	var b strings.Builder
	for i := range evs {
		raw, err := tamper.Encode(&evs[i])
		require.NoError(t, err)
		b.Write(raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestVerifyFile: an exported copy verifies like the stream, a
// redelivered batch (at-least-once) is no problem, control events in the
// file are skipped, and a cut tail is found with its line.
func TestVerifyFile(t *testing.T) {
	t.Parallel()
	r := newVerifyRig(t)
	ctl := `{"id":"c1","type":"role.created","v":1,"time":"2025-03-14T09:00:00Z","source":"control","subject":"tollgate.control.role.x","data":{}}` + "\n"
	text := ctl + nativeLines(t, r.w.evs[:8]) + nativeLines(t, r.w.evs[5:])
	rep, err := VerifyFile([]File{{Name: "a.jsonl", R: strings.NewReader(text)}}, VerifyOptions{Anchors: r.anchors, Now: t0})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
	require.Equal(t, uint64(1), rep.Unchained)
	require.Contains(t, strings.Join(rep.Notes, "\n"), "3 lines repeat an event")
	require.Equal(t, "file a.jsonl", rep.Origin)

	cut := tamper.Without(r.w.evs, session("s3"))
	rep, err = VerifyFile([]File{{Name: "a.jsonl.1", R: strings.NewReader(nativeLines(t, cut[:5]))}, {Name: "a.jsonl", R: strings.NewReader("\n" + nativeLines(t, cut[5:]))}},
		VerifyOptions{Anchors: r.anchors, Now: t0})
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1, "%+v", rep.Problems)
	require.Equal(t, VerifyProblem{Kind: KindTailCut, Source: "agent-1", From: 11, To: 14, Pos: 12, EventID: "agent-1-0015", Detail: rep.Problems[0].Detail},
		rep.Problems[0], "line 12: the blank line counts")

	rep, err = VerifyFile([]File{{Name: "a.jsonl", R: strings.NewReader(nativeLines(t, r.w.evs) + "{not json\n")}}, VerifyOptions{Anchors: r.anchors, Now: t0})
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	require.Equal(t, KindAltered, rep.Problems[0].Kind)
	require.Equal(t, uint64(16), rep.Problems[0].Pos)
}

// TestLoadAnchors: the control stream's agent joins and renewals, control's
// own host certs and every host CA key become the anchors; a second
// cluster.created (refused by the projection) anchors nothing.
func TestLoadAnchors(t *testing.T) {
	t.Parallel()
	l := audittest.NewLog(t, eventlog.ControlStream)
	cs := func(kind, name string) string { return eventlog.ControlSubject(kind, name) }
	l.Add(0, schemas.TypeClusterCreated, cs(eventlog.KindCluster, "main"), schemas.ClusterCreated{Name: "main", Version: "test"})
	l.Add(time.Second, schemas.TypeCACreated, cs(eventlog.KindCA, schemas.CAHost),
		schemas.CACreated{CAType: schemas.CAHost, KeyID: "k1", KeyAlg: "ECDSA-P256", CertPEM: "CA1"})
	l.Add(2*time.Second, schemas.TypeControlHostCertIssued, cs(eventlog.KindHost, "control"),
		schemas.ControlHostCertIssued{Serial: "c1", CertPEM: "CTL1", NotBefore: t0, NotAfter: t0.Add(time.Hour)})
	l.Add(time.Minute, schemas.TypeAgentJoined, cs(eventlog.KindAgent, "a1"),
		schemas.AgentJoined{Agent: schemas.Agent{ID: "a1", Hostname: "h", HostCertPEM: "A1"}, TokenHash: strings.Repeat("0", 64), CertSerial: "1"})
	l.Add(2*time.Minute, schemas.TypeCARotationStarted, cs(eventlog.KindCA, schemas.CAHost),
		schemas.CARotationStarted{CAType: schemas.CAHost, KeyID: "k2", KeyAlg: "ECDSA-P256", CertPEM: "CA2"})
	l.Add(3*time.Minute, schemas.TypeAgentUpdated, cs(eventlog.KindAgent, "a1"), schemas.Agent{ID: "a1", Hostname: "h", HostCertPEM: "A2"})
	l.Add(3*time.Minute, schemas.TypeAgentUpdated, cs(eventlog.KindAgent, "a1"), schemas.Agent{ID: "a1", Hostname: "h", HostCertPEM: "A2"})
	l.Add(4*time.Minute, schemas.TypeClusterCreated, cs(eventlog.KindCluster, "other"), schemas.ClusterCreated{Name: "other", Version: "test"})
	a, err := LoadAnchors(context.Background(), l.S)
	require.NoError(t, err)
	require.Equal(t, Anchors{HostCAs: []string{"CA1", "CA2"}, Sources: map[string]*SourceAnchor{
		"control": {Kind: SourceControl, Start: t0, Certs: []string{"CTL1"}},
		"a1":      {Kind: SourceAgent, Start: t0.Add(time.Minute), Certs: []string{"A1", "A2"}},
	}}, a)
}
