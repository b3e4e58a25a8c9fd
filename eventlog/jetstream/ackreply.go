package jetstream

import (
	"math"
	"strconv"
	"strings"
)

type ackMeta struct {
	sseq, dseq, pending uint64
	ts                  int64
}

// parseAckReply reads a JetStream ack subject without allocating:
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>, or
// the v2 form with <domain>.<account hash> before <stream> and a random
// token at the end.
func parseAckReply(r string) (ackMeta, bool) {
	// ends[k] is the index of the dot after token k (len(r) for the last).
	var ends [12]int
	n := 0
	for i := 0; i <= len(r); i++ {
		if i == len(r) || r[i] == '.' {
			if n == len(ends) {
				return ackMeta{}, false
			}
			ends[n] = i
			n++
		}
	}
	if n < 9 || ends[0] != 3 || r[:3] != "$JS" || ends[1] != 7 || r[4:7] != "ACK" {
		return ackMeta{}, false
	}
	off := 5 // index of sseq in v1
	if n >= 11 {
		off = 7
	}
	tok := func(k int) string { return r[ends[k-1]+1 : ends[k]] }
	sseq, ok1 := decimal(tok(off))
	dseq, ok2 := decimal(tok(off + 1))
	ts, ok3 := decimal(tok(off + 2))
	pending, ok4 := decimal(tok(off + 3))
	if !ok1 || !ok2 || !ok3 || !ok4 || ts > math.MaxInt64 {
		return parseAckReplySlow(r, off)
	}
	return ackMeta{sseq: sseq, dseq: dseq, ts: int64(ts), pending: pending}, true
}

// decimal parses a plain unsigned decimal as strconv.ParseUint(s, 10, 64)
// does, for at most 19 digits (anything longer is refused).
func decimal(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + uint64(c)
	}
	return n, true
}

// parseAckReplySlow is parseAckReply with strconv's rules for what the fast
// path refused (20 digits, a timestamp with a sign, or not a number).
func parseAckReplySlow(r string, off int) (ackMeta, bool) {
	toks := strings.Split(r, ".")
	var md ackMeta
	var err error
	if md.sseq, err = strconv.ParseUint(toks[off], 10, 64); err != nil {
		return ackMeta{}, false
	}
	if md.dseq, err = strconv.ParseUint(toks[off+1], 10, 64); err != nil {
		return ackMeta{}, false
	}
	if md.ts, err = strconv.ParseInt(toks[off+2], 10, 64); err != nil {
		return ackMeta{}, false
	}
	if md.pending, err = strconv.ParseUint(toks[off+3], 10, 64); err != nil {
		return ackMeta{}, false
	}
	return md, true
}
