package format

import (
	"encoding/json"
	"strconv"

	"github.com/tollgate-db/tollgate/internal/jsonx"
	"github.com/tollgate-db/tollgate/schemas"
)

// ocsfUnmapped is the unmapped object of an OCSF document: the fields OCSF
// has no place for. Each value is encoded into buf as it is set; append
// writes the fields in sorted key order, as json.Marshal writes a map.
// Setting a key again replaces its value.
type ocsfUnmapped struct {
	buf    []byte
	fields []unmappedField
	err    error // the first value encoding/json could not encode
}

// unmappedField is one key and its encoded value, buf[start:end].
type unmappedField struct {
	key        string
	start, end int
}

func (u *ocsfUnmapped) reset() {
	u.buf, u.fields, u.err = u.buf[:0], u.fields[:0], nil
}

// begin starts the value of key; end records it.
func (u *ocsfUnmapped) begin() int { return len(u.buf) }

func (u *ocsfUnmapped) end(key string, start int) {
	f := unmappedField{key: key, start: start, end: len(u.buf)}
	for i := range u.fields {
		if u.fields[i].key == key {
			u.fields[i] = f
			return
		}
	}
	u.fields = append(u.fields, f)
}

func (u *ocsfUnmapped) str(key, v string) {
	s := u.begin()
	u.buf = jsonx.AppendString(u.buf, v, true)
	u.end(key, s)
}

func (u *ocsfUnmapped) int(key string, v int64) {
	s := u.begin()
	u.buf = strconv.AppendInt(u.buf, v, 10)
	u.end(key, s)
}

func (u *ocsfUnmapped) uint(key string, v uint64) {
	s := u.begin()
	u.buf = strconv.AppendUint(u.buf, v, 10)
	u.end(key, s)
}

func (u *ocsfUnmapped) bool(key string, v bool) {
	s := u.begin()
	u.buf = strconv.AppendBool(u.buf, v)
	u.end(key, s)
}

func (u *ocsfUnmapped) strs(key string, v []string) {
	s := u.begin()
	u.buf = appendStrings(u.buf, v)
	u.end(key, s)
}

// chain is the event's place in its hash chain.
func (u *ocsfUnmapped) chain(seq uint64, prev, hash string) {
	s := u.begin()
	u.buf = jsonx.AppendString(append(u.buf, `{"hash":`...), hash, true)
	u.buf = jsonx.AppendString(append(u.buf, `,"prev":`...), prev, true)
	u.buf = strconv.AppendUint(append(u.buf, `,"seq":`...), seq, 10)
	u.buf = append(u.buf, '}')
	u.end("chain", s)
}

// params are a query's parameters, each as its struct marshals.
func (u *ocsfUnmapped) params(key string, ps []schemas.QueryParam) {
	s := u.begin()
	if ps == nil {
		u.buf = append(u.buf, "null"...)
	} else {
		u.buf = append(u.buf, '[')
		for i, p := range ps {
			if i > 0 {
				u.buf = append(u.buf, ',')
			}
			u.buf = jsonx.AppendString(append(u.buf, `{"format":`...), p.Format, true)
			if p.Value != "" {
				u.buf = jsonx.AppendString(append(u.buf, `,"value":`...), p.Value, true)
			}
			if p.SHA256 != "" {
				u.buf = jsonx.AppendString(append(u.buf, `,"sha256":`...), p.SHA256, true)
			}
			u.buf = append(u.buf, '}')
		}
		u.buf = append(u.buf, ']')
	}
	u.end(key, s)
}

// json sets a value of a shape met once a session or a control change
// (maps, data passed on) through encoding/json.
func (u *ocsfUnmapped) json(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if u.err == nil {
			u.err = err
		}
		return
	}
	s := u.begin()
	u.buf = append(u.buf, b...)
	u.end(key, s)
}

// append writes the object, fields sorted by key (insertion sort: a
// document has about ten).
func (u *ocsfUnmapped) append(b []byte) []byte {
	f := u.fields
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].key < f[j-1].key; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
	b = append(b, '{')
	for i, fl := range f {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, fl.key, true)
		b = append(append(b, ':'), u.buf[fl.start:fl.end]...)
	}
	return append(b, '}')
}
