package auditview

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/auditquery/audittest"
)

// verifiedSource is a source whose chain 1..24 is present, its 3
// checkpoints verified up to seq 20.
func verifiedSource(name string) auditquery.SourceReport {
	return auditquery.SourceReport{Source: name, Kind: auditquery.SourceAgent, Events: 24, First: 1, Last: 24,
		Checkpoints: 3, Verified: 3, CoveredTo: 20, Head: auditquery.HeadOK,
		Uncovered: &auditquery.Range{From: 21, To: 24, FirstTime: audittest.T0, LastTime: audittest.T0.Add(3 * time.Second)}}
}

// TestRenderVerify: a report with no problem says OK; one with problems
// says FAILED with their count and shows each kind, under the position
// column it is given.
func TestRenderVerify(t *testing.T) {
	t.Parallel()
	ok := auditquery.VerifyReport{Origin: "stream TOLLGATE_AUDIT", Sources: []auditquery.SourceReport{verifiedSource("agent-1")}}
	failed := auditquery.VerifyReport{Origin: "file a.jsonl", Sources: []auditquery.SourceReport{verifiedSource("agent-1")},
		Problems: []auditquery.VerifyProblem{
			{Kind: auditquery.KindTailCut, Source: "agent-1", From: 11, To: 14, Pos: 12, Detail: "events 11..14 are missing"},
			{Kind: auditquery.KindGap, Source: "agent-1", From: 20, To: 20, Detail: "event 20 is missing"},
			{Kind: auditquery.KindUnknownSource, Source: "agent-x", Pos: 30, Detail: "no such agent"},
		}}
	late := ok
	late.Late = []auditquery.VerifyProblem{{Kind: auditquery.KindLate, Source: "agent-1", From: 4, To: 5, Pos: 7}}
	tests := []struct {
		name  string
		rep   auditquery.VerifyReport
		pos   string
		wants []string
		not   []string
	}{
		{"ok", ok, "STREAM SEQ", []string{"Verified stream TOLLGATE_AUDIT.", "OK: every chain is intact"}, []string{"FAILED"}},
		{"late is not a problem", late, "STREAM SEQ", []string{"Stored late", "agent-1: seq 4..5, at stream seq 7", "OK: every chain is intact"}, []string{"FAILED"}},
		{"failed", failed, "LINE", []string{"FAILED: 3 problem(s)", auditquery.KindTailCut, auditquery.KindGap, auditquery.KindUnknownSource},
			[]string{"OK:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			require.NoError(t, RenderVerify(&b, &tt.rep, tt.pos))
			text := b.String()
			for _, w := range tt.wants {
				require.Contains(t, text, w)
			}
			if !tt.rep.OK() {
				require.Regexp(t, `KIND +SOURCE +CHAIN SEQ +`+tt.pos+` +DETAIL`, text)
			}
			for _, n := range tt.not {
				require.NotContains(t, text, n)
			}
		})
	}
}

// TestRenderVerifyGolden: every part of a report (sources, what no
// checkpoint covers yet, unchained records, notes, problems) in one table.
func TestRenderVerifyGolden(t *testing.T) {
	t.Parallel()
	control := auditquery.SourceReport{Source: "control", Kind: auditquery.SourceControl, Events: 5, First: 1, Last: 5,
		Checkpoints: 1, Verified: 0, Head: auditquery.HeadRetention}
	rep := auditquery.VerifyReport{Origin: "stream TOLLGATE_AUDIT", Unchained: 2,
		Sources: []auditquery.SourceReport{verifiedSource("agent-1"), control},
		Notes:   []string{"the stream's first records aged out (max age 24h0m0s)"},
		Late:    []auditquery.VerifyProblem{{Kind: auditquery.KindLate, Source: "agent-1", From: 7, To: 8, Pos: 12, Detail: "seq 7..8 stored after seq 9"}},
		Problems: []auditquery.VerifyProblem{
			{Kind: auditquery.KindBadCheckpoint, Source: "control", From: 5, To: 5, Pos: 9, Detail: "signature does not verify"},
			{Kind: auditquery.KindRewritten, Source: "agent-1", From: 3, To: 3, Pos: 4, Detail: "event 3 differs from what checkpoint 6 signed"},
		}}
	var b bytes.Buffer
	require.NoError(t, RenderVerify(&b, &rep, "STREAM SEQ"))
	golden(t, "verify", b.Bytes())
}
