package auditview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
)

func seqRange(from, to uint64) string {
	switch {
	case from == 0 && to == 0:
		return "-"
	case from == to:
		return fmt.Sprintf("%d", from)
	}
	return fmt.Sprintf("%d..%d", from, to)
}

// RenderVerify prints a verification report: one row per source (its
// chain, checkpoints, how far they cover it, its start), the ranges not
// yet covered by a checkpoint, notes, and the problems naming source,
// chain range and where they show. posName is what a problem's position
// is ("STREAM SEQ", "LINE").
func RenderVerify(w io.Writer, rep *auditquery.VerifyReport, posName string) error {
	fmt.Fprintf(w, "Verified %s.\n", rep.Origin)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tEVENTS\tCHAIN SEQ\tCHECKPOINTS OK\tSIGNED UP TO\tSTART")
	for _, s := range rep.Sources {
		signed := "-"
		if s.CoveredTo > 0 {
			signed = fmt.Sprintf("seq %d", s.CoveredTo)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d/%d\t%s\t%s\n", s.Source, s.Kind, s.Events, seqRange(s.First, s.Last),
			s.Verified, s.Checkpoints, signed, s.Head)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var unc []string
	for _, s := range rep.Sources {
		if u := s.Uncovered; u != nil {
			unc = append(unc, fmt.Sprintf("  %s: seq %s (%s to %s)", s.Source, seqRange(u.From, u.To),
				u.FirstTime.UTC().Format(time.RFC3339), u.LastTime.UTC().Format(time.RFC3339)))
		}
	}
	if len(unc) > 0 {
		fmt.Fprintf(w, "Not yet covered by a checkpoint (a source signs its head within its interval, at session end and at shutdown):\n%s\n",
			strings.Join(unc, "\n"))
	}
	if rep.Unchained > 0 {
		fmt.Fprintf(w, "%d records without a hash chain were skipped.\n", rep.Unchained)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if len(rep.Late) > 0 {
		fmt.Fprintf(w, "Stored late, in chain order and linked to the events around them (a publish retried after a NATS failover stores events so; nothing is missing):\n")
		for _, p := range rep.Late {
			fmt.Fprintf(w, "  %s: seq %s, at %s %d\n", cell(p.Source), seqRange(p.From, p.To), strings.ToLower(posName), p.Pos)
		}
	}
	if rep.OK() {
		_, err := fmt.Fprintln(w, "OK: every chain is intact, starts where the control stream says, and its checkpoints verify.")
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "FAILED: %d problem(s)\nKIND\tSOURCE\tCHAIN SEQ\t%s\tDETAIL\n", len(rep.Problems), posName)
	for _, p := range rep.Problems {
		pos := "-"
		if p.Pos > 0 {
			pos = fmt.Sprintf("%d", p.Pos)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Kind, cell(p.Source), seqRange(p.From, p.To), pos, p.Detail)
	}
	return tw.Flush()
}
