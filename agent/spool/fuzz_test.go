package spool

import (
	"bytes"
	"testing"
)

// FuzzDecodeRecord checks that the decoder never panics, never reads past
// its input, and round-trips what it accepts.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(AppendRecord(nil, []byte(`{"id":"x"}`)))
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := DecodeRecord(b)
		if err != nil {
			if p != nil || n != 0 {
				t.Fatalf("error with payload")
			}
			return
		}
		if n > len(b) || n != HeaderLen+len(p) {
			t.Fatalf("size %d of %d", n, len(b))
		}
		if !bytes.Equal(AppendRecord(nil, p), b[:n]) {
			t.Fatalf("not a round trip")
		}
	})
}
