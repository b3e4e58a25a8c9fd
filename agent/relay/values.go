package relay

// Values the tracker keeps and decodes: names, texts and parameters kept
// cut past bigText, the refusal of unknown names and its poison Bind.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// nameRefusal is returned by client for a message the agent does not forward:
// it names a statement or portal whose text the agent does not know. The
// caller forwards poison instead — a Bind the server always refuses (two
// parameter formats for one parameter), so its transaction fails as it
// would have for a real error — and discards the client's messages up to
// its Sync, which the server skips anyway.
type nameRefusal struct {
	e      pgwire.Error
	poison []byte
	// genuine: the poison binds the very statement the client named, so
	// when the server answers that it does not exist (26000), its own error
	// is the right answer.
	genuine bool
}

func (r *nameRefusal) Error() string { return r.e.Message }

// poisonBind is a Bind of stmt that fails whether or not stmt exists,
// before it creates a portal.
func poisonBind(stmt string) []byte {
	b, _ := (&pgproto3.Bind{PreparedStatement: stmt, ParameterFormatCodes: []int16{0, 0}, Parameters: [][]byte{nil}}).Encode(nil)
	return b
}

// Texts and values over bigText are kept (for the session's statements
// and portals, and for its events) cut to keptCut bytes, with the SHA-256
// of the whole: what a session holds stays bounded, and the record still
// identifies what ran.
const (
	bigText = 1 << 20
	keptCut = 32 << 10
)

// keptText returns b as the tracker keeps it: whole, or cut with the hex
// SHA-256 of the whole.
func keptText(b []byte) (text, sum string) {
	if len(b) <= bigText {
		return string(b), ""
	}
	h := sha256.Sum256(b)
	return eventlog.CutUTF8(string(b[:keptCut+utf8.UTFMax]), keptCut), hex.EncodeToString(h[:])
}

func int16s(u []uint16) []int16 {
	out := make([]int16, len(u))
	for i, v := range u {
		out[i] = int16(v)
	}
	return out
}

func unknownStatement(name string) pgwire.Error {
	e := pgwire.NewError(pgwire.CodeInvalidSQLStatementName,
		"tollgate: prepared statement "+strconv.Quote(name)+" is not known to the audit")
	e.Detail = "Only statements prepared by this session's Parse messages or by a PREPARE the agent saw can be executed through Tollgate."
	e.Hint = "Prepare the statement again (Parse) before binding it."
	return e
}

func unknownPortal(name string) pgwire.Error {
	e := pgwire.NewError(pgwire.CodeInvalidCursorName,
		"tollgate: portal "+strconv.Quote(name)+" is not known to the audit")
	e.Detail = "Only portals bound by this session's Bind messages or cursors declared by SQL the agent saw can be executed through Tollgate."
	e.Hint = "Bind the portal again before executing it."
	return e
}

func malformedMsg(name string, err error) error {
	var fe *pgwire.FrameError
	if errors.As(err, &fe) {
		return fe // already says which message and why
	}
	if err != nil {
		return &pgwire.FrameError{Reason: name + ": " + err.Error(), Err: pgwire.ErrMalformed}
	}
	return &pgwire.FrameError{Reason: name, Err: pgwire.ErrMalformed}
}

// bindParams records bound values (Bind parameters, FunctionCall
// arguments) with their format codes.
func bindParams(formats []int16, values [][]byte) []schemas.QueryParam {
	if len(values) == 0 {
		return nil
	}
	ps := make([]schemas.QueryParam, len(values))
	for i, v := range values {
		var format int16
		switch len(formats) {
		case 0:
		case 1:
			format = formats[0]
		default:
			if i < len(formats) {
				format = formats[i]
			}
		}
		switch {
		case v == nil:
			ps[i] = schemas.QueryParam{Format: "null"}
		case format == 1:
			ps[i] = schemas.QueryParam{Format: "binary", Value: base64.StdEncoding.EncodeToString(v[:min(len(v), bigText)])}
		default:
			ps[i].Format = "text"
			ps[i].Value, ps[i].SHA256 = keptText(v)
		}
		if format == 1 && len(v) > bigText {
			// Kept cut, with the SHA-256 of the whole value as bound.
			h := sha256.Sum256(v)
			ps[i].Value = base64.StdEncoding.EncodeToString(v[:keptCut])
			ps[i].SHA256 = hex.EncodeToString(h[:])
		}
	}
	return ps
}
