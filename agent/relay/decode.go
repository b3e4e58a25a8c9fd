package relay

// The client messages the tracker reads, one decoder each. Bind, Close,
// and Execute go through pgproto3/v2 (pgwire.Decode turns its panics on
// hostile input into ErrMalformed). Parse and Query are decoded by hand,
// on the hot path: pgproto3 copies the whole text (up to the frame limit)
// where the tracker keeps a cut of it past bigText, and its Query decoder
// panics on an empty body. FunctionCall is decoded by hand too: pgproto3/v2
// reads an argument's length unsigned, so a NULL argument (-1) made it
// fail. FuzzDecodeParse, FuzzDecodeQuery and FuzzDecodeFunctionCall check
// them against pgproto3's. Describe's body is not
// read: the tracker only waits for its answer.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// parseMsg is what the tracker reads of a Parse.
type parseMsg struct {
	name string
	// query aliases the frame: valid until the next read.
	query []byte
}

// decodeParse reads a Parse's statement name and text. The parameter
// types after them are the server's to check.
func decodeParse(body []byte) (parseMsg, error) {
	name, rest, ok := cstring(body)
	if !ok {
		return parseMsg{}, malformedMsg("Parse", nil)
	}
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return parseMsg{}, malformedMsg("Parse", nil)
	}
	return parseMsg{name: name, query: rest[:i]}, nil
}

// decodeQuery returns a Query's text: the body without its terminating
// NUL, aliasing the frame. A body with no terminating NUL is malformed. A
// text holding a NUL is malformed too where the server reads it (it
// refuses the Query); in a group the server skips it is not read, so
// nulInside reports it apart.
func decodeQuery(body []byte) (text []byte, nulInside bool, err error) {
	if len(body) == 0 || body[len(body)-1] != 0 {
		return nil, false, malformedMsg("Query", nil)
	}
	text = body[:len(body)-1]
	return text, bytes.IndexByte(text, 0) >= 0, nil
}

// decodeBind reads a Bind; its parameters alias the frame.
func decodeBind(body []byte) (*pgproto3.Bind, error) {
	var m pgproto3.Bind
	if err := pgwire.Decode(&m, body); err != nil {
		return nil, malformedMsg("Bind", err)
	}
	return &m, nil
}

// decodeExecute returns the portal an Execute runs.
func decodeExecute(body []byte) (portal string, err error) {
	var m pgproto3.Execute
	if err := pgwire.Decode(&m, body); err != nil {
		return "", malformedMsg("Execute", err)
	}
	return m.Portal, nil
}

// decodeClose returns what a Close drops: a statement ('S') or a portal
// ('P'), and its name.
func decodeClose(body []byte) (n ns, name string, err error) {
	var m pgproto3.Close
	if err := pgwire.Decode(&m, body); err != nil || (m.ObjectType != 'S' && m.ObjectType != 'P') {
		return 0, "", malformedMsg("Close", err)
	}
	if m.ObjectType == 'P' {
		return nsPortal, m.Name, nil
	}
	return nsStmt, m.Name, nil
}

// decodeFunctionCall reads a FunctionCall; its arguments alias the frame.
// Every count and length is checked against what is left of the body
// before anything is allocated by it; a NULL argument (length -1) is a nil
// argument.
func decodeFunctionCall(body []byte) (*pgproto3.FunctionCall, error) {
	bad := func(what string) error { return malformedMsg("FunctionCall", errors.New(what)) }
	r := wireReader(body)
	fn, ok := r.uint32()
	if !ok {
		return nil, bad("no function id")
	}
	m := &pgproto3.FunctionCall{Function: fn}
	nf, ok := r.uint16()
	if !ok || int(nf)*2 > len(r) {
		return nil, bad("argument format codes cut")
	}
	if nf > 0 {
		m.ArgFormatCodes = make([]uint16, nf)
	}
	for i := range m.ArgFormatCodes {
		c, _ := r.uint16()
		if c > 1 {
			return nil, bad("argument format code " + strconv.Itoa(int(c)) + " is neither text nor binary")
		}
		m.ArgFormatCodes[i] = c
	}
	na, ok := r.uint16()
	if !ok || int(na)*4 > len(r) {
		return nil, bad("arguments cut")
	}
	if na > 0 {
		m.Arguments = make([][]byte, na)
	}
	for i := range m.Arguments {
		n, ok := r.uint32()
		if !ok {
			return nil, bad("arguments cut")
		}
		if int32(n) == -1 {
			continue // NULL
		}
		if int32(n) < 0 || int64(n) > int64(len(r)) {
			return nil, bad("argument " + strconv.Itoa(i+1) + " is longer than the message")
		}
		m.Arguments[i], r = r[:n:n], r[n:]
	}
	rf, ok := r.uint16()
	if !ok || rf > 1 {
		return nil, bad("no text or binary result format")
	}
	m.ResultFormatCode = rf
	if len(r) != 0 {
		return nil, bad("bytes after the result format")
	}
	return m, nil
}

// wireReader reads big-endian integers off the front of a message body.
type wireReader []byte

func (r *wireReader) uint16() (uint16, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(*r)
	*r = (*r)[2:]
	return v, true
}

func (r *wireReader) uint32() (uint32, bool) {
	if len(*r) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(*r)
	*r = (*r)[4:]
	return v, true
}

func cstring(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}
