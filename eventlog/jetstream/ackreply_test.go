package jetstream

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAckReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reply string
		want  ackMeta
		ok    bool
	}{
		{"$JS.ACK.S.C.1.42.7.1700000000000000000.99", ackMeta{sseq: 42, dseq: 7, ts: 1700000000000000000, pending: 99}, true},
		{"$JS.ACK.dom.hash.S.C.1.42.7.1700000000000000000.0.tok", ackMeta{sseq: 42, dseq: 7, ts: 1700000000000000000, pending: 0}, true},
		{"$JS.ACK.dom.hash.S.C.1.42.7.5.0", ackMeta{sseq: 42, dseq: 7, ts: 5}, true},
		{"$JS.ACK.S.C.1.18446744073709551615.7.+5.0", ackMeta{sseq: 18446744073709551615, dseq: 7, ts: 5}, true}, // strconv's rules
		{"$JS.ACK.S.C.1.42.7.-5.0", ackMeta{sseq: 42, dseq: 7, ts: -5}, true},
		{"$JS.ACK.S.C.1.18446744073709551616.7.5.0", ackMeta{}, false},
		{"$JS.ACK.S.C.1.42.7.9223372036854775808.0", ackMeta{}, false},
		{"$JS.ACK.S.C.1.4x.7.5.0", ackMeta{}, false},
		{"$JS.ACK.S.C.1..7.5.0", ackMeta{}, false},
		{"$JS.ACK.S.C.1.42.7.5", ackMeta{}, false},
		{"$JS.NAK.S.C.1.42.7.5.0", ackMeta{}, false},
		{"$JSX.ACK.S.C.1.42.7.5.0", ackMeta{}, false},
		{"$JS.ACK.a.b.c.d.e.f.g.h.i.j.k", ackMeta{}, false},
		{"_INBOX.x", ackMeta{}, false},
		{"", ackMeta{}, false},
	} {
		got, ok := parseAckReply(tc.reply)
		require.Equal(t, tc.ok, ok, tc.reply)
		require.Equal(t, tc.want, got, tc.reply)
	}
}
