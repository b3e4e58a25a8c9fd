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
		r := NewClientReader(bufio.NewReaderSize(bytes.NewReader(in), 64), 1024)
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
	f.Add([]byte("\x00\x00\x00\x17\x00\x03\x00\x02user\x00alice\x00\x00"))
	f.Add(AppendCancelRequest(nil, 7, bytes.Repeat([]byte{9}, 32)))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ReadStartup(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		if len(s.Raw) > MaxStartup || !bytes.HasPrefix(in, s.Raw) {
			t.Fatal("bad raw packet")
		}
		switch s.Kind {
		case KindCancelRequest:
			if !bytes.Equal(AppendCancelRequest(nil, s.ProcessID, s.SecretKey), s.Raw) {
				t.Fatal("cancel request does not encode back to its bytes")
			}
		case KindStartupMessage:
			if s.Version>>16 != 3 {
				t.Fatalf("version %s accepted", VersionString(s.Version))
			}
		}
	})
}

// FuzzBackendKeyData: a body ParseBackendKeyData accepts encodes back to
// the same message, and the key is never longer than MaxCancelKey.
func FuzzBackendKeyData(f *testing.F) {
	f.Add([]byte{0, 0, 0, 42, 0, 0, 16, 146})
	f.Add(append([]byte{0, 0, 0, 42}, bytes.Repeat([]byte{1}, 32)...))
	f.Fuzz(func(t *testing.T, body []byte) {
		pid, secret, err := ParseBackendKeyData(body)
		if err != nil {
			return
		}
		if len(secret) == 0 || len(secret) > MaxCancelKey {
			t.Fatalf("key of %d bytes accepted", len(secret))
		}
		msg := AppendBackendKeyData(nil, pid, secret)
		if !bytes.Equal(msg[HeaderLen:], body) {
			t.Fatal("does not encode back to the same bytes")
		}
	})
}
