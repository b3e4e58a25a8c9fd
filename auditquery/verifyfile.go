package auditquery

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/tollgate-db/tollgate/eventlog"
)

// MaxLine bounds one line of an exported file (an event is at most
// eventlog.DefaultMaxEventSize; the envelope fits beside it).
const MaxLine = 4 * eventlog.DefaultMaxEventSize

// dedupWindow is how far back (in chain sequences per source) a line equal
// to one already read is taken for a redelivered copy.
const dedupWindow = 1 << 16

// File is one exported file to verify: the JSON lines the export file
// sink writes in the native format, in the order written.
type File struct {
	Name string
	R    io.Reader
}

type seen struct {
	max    uint64
	hashes map[uint64]string
}

// VerifyFile checks the audit events of exported files, read in the order
// given (rotated files oldest first: path.N … path.1, path), against
// opt.Anchors, as Verify checks the stream; the position of a problem is
// its line (counted across the files). Export is at-least-once, so a line
// repeating an event already read (same source, sequence and hash) is a
// redelivered copy and is skipped. Control events (a sink exporting both
// streams) are not chained and are counted as such. A line that is not an
// event is reported as altered.
func VerifyFile(files []File, opt VerifyOptions) (VerifyReport, error) {
	origin := "file"
	for i, f := range files {
		if i == 0 {
			origin += " " + f.Name
		} else {
			origin += ", " + f.Name
		}
	}
	v := NewVerifier(origin, opt)
	var (
		line  uint64
		dups  uint64
		bad   []VerifyProblem
		state = map[string]*seen{}
	)
	for _, f := range files {
		sc := bufio.NewScanner(f.R)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
		for sc.Scan() {
			line++
			raw := bytes.TrimSpace(sc.Bytes())
			if len(raw) == 0 {
				continue
			}
			var ev eventlog.Event
			if err := eventlog.DecodeEvent(bytes.Clone(raw), &ev); err != nil {
				bad = append(bad, VerifyProblem{Kind: KindAltered, Pos: line, Detail: fmt.Sprintf("%s line %d is not an event: %v", f.Name, line, err)})
				continue
			}
			if !opt.Since.IsZero() && ev.Time.Before(opt.Since) {
				continue
			}
			if ev.Hash != "" || ev.Seq != 0 {
				s := state[ev.Source]
				if s == nil {
					s = &seen{hashes: map[uint64]string{}}
					state[ev.Source] = s
				}
				if h, ok := s.hashes[ev.Seq]; ok && h == ev.Hash && ev.Seq <= s.max {
					dups++
					continue
				}
				s.hashes[ev.Seq] = ev.Hash
				if ev.Seq > s.max {
					s.max = ev.Seq
				}
				if len(s.hashes) > 2*dedupWindow {
					for seq := range s.hashes {
						if seq+dedupWindow < s.max {
							delete(s.hashes, seq)
						}
					}
				}
			}
			v.Add(eventlog.Record{StreamSeq: line, Event: ev})
		}
		if err := sc.Err(); err != nil {
			return v.Report(), fmt.Errorf("verify file %s (line %d): %w", f.Name, line+1, err)
		}
	}
	rep := v.Report()
	rep.Problems = append(bad, rep.Problems...)
	if dups > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d lines repeat an event already read (export is at-least-once) and were skipped", dups))
	}
	return rep, nil
}
