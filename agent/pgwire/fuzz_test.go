package pgwire

import (
	"bufio"
	"bytes"
	"testing"
)

func FuzzFrameReader(f *testing.F) {
	f.Add(msg('Q', "select 1\x00"))
	f.Add(append(msg('P', "s\x00select $1\x00\x00\x00"), msg('S', "")...))
	f.Add([]byte{'d', 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(in), 64), 1024)
		var out []byte
		for {
			_, body, err := r.Next()
			if err != nil {
				break
			}
			if len(body) > 1024 {
				t.Fatalf("body of %d bytes over the limit", len(body))
			}
			out = append(out, r.Raw()...)
		}
		if !bytes.HasPrefix(in, out) {
			t.Fatal("raw frames do not reproduce the input")
		}
	})
}

func FuzzStartup(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})
	f.Add([]byte{0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Add([]byte("\x00\x00\x00\x17\x00\x03\x00\x00user\x00alice\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ReadStartup(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		if len(s.Raw) > MaxStartup || !bytes.HasPrefix(in, s.Raw) {
			t.Fatal("bad raw packet")
		}
	})
}
