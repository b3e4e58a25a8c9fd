package eventlog

import (
	"encoding/json"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func decodeCases() []string {
	ev := Event{ID: "01J", Type: "query", V: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC),
		Source: "agent-1", Actor: "alice", Subject: "tollgate.audit.a.b.c.query",
		Data: json.RawMessage(`{"sql":"select \"x\" < 1","n":[1,2,{"a":null}]}`), Seq: 9, Prev: "p", Hash: "h"}
	full, _ := json.Marshal(ev)
	return []string{
		string(full),
		`{"id":"a","type":"t","v":2,"time":"2026-01-02T03:04:05+02:00","source":"s","subject":"x","data":"str"}`,
		`{ "id" : "a" , "data" : [ 1 , 2 ] , "v" : 0 }`,
		`{"id":"a","data":12.5e3}`,
		`{"id":"a","data":true,"seq":0}`,
		`{"id":"a","data":null}`,
		`{}`,
		`{"id":"a\"b","data":{}}`,        // escape: slow path
		`{"ID":"a","data":{}}`,           // case-insensitive key: slow path
		`{"id":"é","extra":1,"data":{}}`, // unknown key: slow path
		`{"id":"a","time":"2026-01-02T03:04:05.123456789Z","data":{}}`,
		`{"id":"a","v":-1,"data":{}}`,
		`{"id":"a","v":1.5,"data":{}}`,
		`{"id":"a","data":{"a":}}`,
		`{"id":"a","data":{}`,
		`{"id":"a","data":{}} x`,
		`{"id":null,"data":{}}`,
		`[]`,
		``,
		"{\"id\":\"a\xffb\",\"data\":{}}", // invalid UTF-8: slow path
	}
}

func checkDecode(t *testing.T, in string) {
	checkDecodeWith(t, DecodeEvent, in)
	checkDecodeWith(t, DecodeEventOwned, in)
}

func checkDecodeWith(t *testing.T, decode func([]byte, *Event) error, in string) {
	var want Event
	werr := json.Unmarshal([]byte(in), &want)
	var got Event
	gerr := decode([]byte(in), &got)
	if werr != nil {
		require.Error(t, gerr, "%q", in)
		return
	}
	require.NoError(t, gerr, "%q", in)
	require.True(t, want.Time.Equal(got.Time), "%q", in)
	want.Time, got.Time = time.Time{}, time.Time{}
	require.Equal(t, want, got, "%q", in)
}

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	for _, in := range decodeCases() {
		checkDecode(t, in)
	}
}

// TestDecodeEventOwnedCopiesNothing: the owned decode of the common form
// allocates nothing; its strings are cut from the buffer itself.
func TestDecodeEventOwnedCopiesNothing(t *testing.T) {
	raw := []byte(decodeCases()[0])
	var ev Event
	allocs := testing.AllocsPerRun(100, func() {
		if err := DecodeEventOwned(raw, &ev); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	id := uintptr(unsafe.Pointer(unsafe.StringData(ev.ID)))
	require.True(t, id >= start && id < start+uintptr(len(raw)), "ID is not cut from the buffer")
	// DecodeEvent copies: the buffer may change afterwards.
	require.NoError(t, DecodeEvent(raw, &ev))
	id = uintptr(unsafe.Pointer(unsafe.StringData(ev.ID)))
	require.False(t, id >= start && id < start+uintptr(len(raw)), "DecodeEvent's ID aliases the buffer")
}

func FuzzDecodeEvent(f *testing.F) {
	for _, in := range decodeCases() {
		f.Add(in)
	}
	f.Fuzz(checkDecode)
}

func BenchmarkDecodeEvent(b *testing.B) {
	raw := []byte(decodeCases()[0])
	for _, bc := range []struct {
		name   string
		decode func([]byte, *Event) error
	}{{"copy", DecodeEvent}, {"owned", DecodeEventOwned}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var ev Event
				if err := bc.decode(raw, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshalEvent(b *testing.B) {
	raw := []byte(decodeCases()[0])
	b.ReportAllocs()
	for b.Loop() {
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
	}
}
