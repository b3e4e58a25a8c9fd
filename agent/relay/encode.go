package relay

import (
	"bytes"
	"strconv"

	"github.com/tollgate-db/tollgate/internal/jsonx"
	"github.com/tollgate-db/tollgate/schemas"
)

// Hand-rolled JSON encoders for the two hot events. They produce what
// encoding/json would (field order and omitempty as in schemas), without
// reflection; encode_test.go checks them against encoding/json.

func appendQueryJSON(dst []byte, q *schemas.Query) []byte {
	dst = append(dst, `{"session_id":`...)
	dst = jsonx.AppendString(dst, q.SessionID, true)
	dst = append(dst, `,"n":`...)
	dst = strconv.AppendUint(dst, q.N, 10)
	dst = append(dst, `,"kind":`...)
	dst = jsonx.AppendString(dst, q.Kind, true)
	dst = append(dst, `,"statement":`...)
	dst = jsonx.AppendString(dst, q.Statement, true)
	if q.StatementName != "" {
		dst = append(dst, `,"statement_name":`...)
		dst = jsonx.AppendString(dst, q.StatementName, true)
	}
	if q.Portal != "" {
		dst = append(dst, `,"portal":`...)
		dst = jsonx.AppendString(dst, q.Portal, true)
	}
	if len(q.Params) > 0 {
		dst = append(dst, `,"params":[`...)
		for i, p := range q.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"format":`...)
			dst = jsonx.AppendString(dst, p.Format, true)
			if p.Value != "" {
				dst = append(dst, `,"value":`...)
				dst = jsonx.AppendString(dst, p.Value, true)
			}
			if p.SHA256 != "" {
				dst = append(dst, `,"sha256":`...)
				dst = jsonx.AppendString(dst, p.SHA256, true)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if q.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	if q.SHA256 != "" {
		dst = append(dst, `,"sha256":`...)
		dst = jsonx.AppendString(dst, q.SHA256, true)
	}
	if q.ParamsOmitted != 0 {
		dst = append(dst, `,"params_omitted":`...)
		dst = strconv.AppendInt(dst, int64(q.ParamsOmitted), 10)
	}
	if q.ParamsSHA256 != "" {
		dst = append(dst, `,"params_sha256":`...)
		dst = jsonx.AppendString(dst, q.ParamsSHA256, true)
	}
	if q.PreparedBy != 0 {
		dst = append(dst, `,"prepared_by":`...)
		dst = strconv.AppendUint(dst, q.PreparedBy, 10)
	}
	if q.AccessRequest != "" {
		dst = append(dst, `,"access_request":`...)
		dst = jsonx.AppendString(dst, q.AccessRequest, true)
	}
	return append(dst, '}')
}

func appendResultJSON(dst []byte, r *schemas.QueryResult) []byte {
	dst = append(dst, `{"session_id":`...)
	dst = jsonx.AppendString(dst, r.SessionID, true)
	dst = append(dst, `,"n":`...)
	dst = strconv.AppendUint(dst, r.N, 10)
	dst = append(dst, `,"status":`...)
	dst = jsonx.AppendString(dst, r.Status, true)
	if r.CommandTag != "" {
		dst = append(dst, `,"command_tag":`...)
		dst = jsonx.AppendString(dst, r.CommandTag, true)
	}
	dst = append(dst, `,"rows":`...)
	dst = strconv.AppendInt(dst, r.Rows, 10)
	if r.SQLState != "" {
		dst = append(dst, `,"sqlstate":`...)
		dst = jsonx.AppendString(dst, r.SQLState, true)
	}
	if r.Error != "" {
		dst = append(dst, `,"error":`...)
		dst = jsonx.AppendString(dst, r.Error, true)
	}
	dst = append(dst, `,"duration_us":`...)
	dst = strconv.AppendInt(dst, r.DurationUS, 10)
	if r.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	return append(dst, '}')
}

// queryN reads "n" from a query event's data as appendQueryJSON wrote it.
func queryN(data []byte) (uint64, bool) {
	const key = `,"n":`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return 0, false
	}
	var n uint64
	j := i + len(key)
	for ; j < len(data) && data[j] >= '0' && data[j] <= '9'; j++ {
		n = n*10 + uint64(data[j]-'0')
	}
	return n, j > i+len(key)
}
