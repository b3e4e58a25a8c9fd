package schemas

// The fast path for the audit events written once per query (fastdecode.go):
// exporters and audit queries decode millions of them.

func (d *scanner) query(k string, v *Query) bool {
	switch k {
	case "session_id":
		return d.str(&v.SessionID)
	case "n":
		return d.u64(&v.N)
	case "kind":
		return d.str(&v.Kind)
	case "statement":
		return d.str(&v.Statement)
	case "statement_name":
		return d.str(&v.StatementName)
	case "portal":
		return d.str(&v.Portal)
	case "params":
		list := []QueryParam{}
		ok := d.array(func() bool {
			var p QueryParam
			if !d.object(func(k string) bool { return d.queryParam(k, &p) }) {
				return false
			}
			list = append(list, p)
			return true
		})
		v.Params = list
		return ok
	case "truncated":
		return d.boolean(&v.Truncated)
	case "sha256":
		return d.str(&v.SHA256)
	case "params_omitted":
		return d.integer(&v.ParamsOmitted)
	case "params_sha256":
		return d.str(&v.ParamsSHA256)
	case "prepared_by":
		return d.u64(&v.PreparedBy)
	case "access_request":
		return d.str(&v.AccessRequest)
	}
	return false
}

func (d *scanner) queryParam(k string, v *QueryParam) bool {
	switch k {
	case "format":
		return d.str(&v.Format)
	case "value":
		return d.str(&v.Value)
	case "sha256":
		return d.str(&v.SHA256)
	}
	return false
}

func (d *scanner) queryResult(k string, v *QueryResult) bool {
	switch k {
	case "session_id":
		return d.str(&v.SessionID)
	case "n":
		return d.u64(&v.N)
	case "status":
		return d.str(&v.Status)
	case "command_tag":
		return d.str(&v.CommandTag)
	case "rows":
		return d.i64(&v.Rows)
	case "sqlstate":
		return d.str(&v.SQLState)
	case "error":
		return d.str(&v.Error)
	case "duration_us":
		return d.i64(&v.DurationUS)
	case "truncated":
		return d.boolean(&v.Truncated)
	}
	return false
}

// u64 reads a non-negative integer of at most 19 digits (all of which fit)
// without a leading zero; anything else takes the slow path.
func (d *scanner) u64(out *uint64) bool {
	d.ws()
	n, ok := d.digits(19)
	*out = n
	return ok
}

// i64 reads an integer of at most 18 digits, maybe negative.
func (d *scanner) i64(out *int64) bool {
	d.ws()
	neg := d.i < len(d.s) && d.s[d.i] == '-'
	if neg {
		d.i++
	}
	n, ok := d.digits(18)
	*out = int64(n)
	if neg {
		*out = -*out
	}
	return ok
}

// digits reads up to max decimal digits at d.i, as integer does.
func (d *scanner) digits(max int) (uint64, bool) {
	start := d.i
	var n uint64
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' && d.i-start < max {
		n = n*10 + uint64(d.s[d.i]-'0')
		d.i++
	}
	if d.i == start || (d.s[start] == '0' && d.i-start > 1) {
		return 0, false
	}
	if d.i < len(d.s) && (d.s[d.i] == '.' || d.s[d.i] == 'e' || d.s[d.i] == 'E' || (d.s[d.i] >= '0' && d.s[d.i] <= '9')) {
		return 0, false
	}
	return n, true
}
