package schemas

import (
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// fastUnmarshal decodes data into out, a pointer to a zero control event
// type or to the two audit events there is one of per query (Query,
// QueryResult), with the result json.Unmarshal would give, and reports
// whether it could. It takes only the common form json.Marshal writes: an
// object of known keys, each at most once, strings without \u escapes of
// surrogates, no nulls, integers only where the field is one. Whatever it accepts is valid JSON. Anything else (or any other
// type) returns false, leaving out partly written: the caller then decodes
// into a fresh value with encoding/json, which also gives the exact error.
//
// Strings without escapes are substrings of s, which holds the bytes of
// data: one copy of it (decoding an event then allocates that copy plus
// the values themselves), or data itself for a caller that never modifies
// data afterwards (see DecodeOwned).
func fastUnmarshal(data []byte, s string, out any) bool {
	if !utf8.Valid(data) {
		return false
	}
	d := &scanner{b: data, s: s}
	var ok bool
	switch v := out.(type) {
	case *UserCreated:
		ok = d.object(func(k string) bool {
			switch k {
			case "invite_hash":
				return d.str(&v.InviteHash)
			case "invite_expires":
				return d.time(&v.InviteExpires)
			case "sso":
				return d.str(&v.SSO)
			}
			return d.user(k, &v.User)
		})
	case *User:
		ok = d.object(func(k string) bool { return d.user(k, v) })
	case *UserDeleted:
		ok = d.object(func(k string) bool { return k == "name" && d.str(&v.Name) })
	case *UserPasswordSet:
		ok = d.object(func(k string) bool {
			switch k {
			case "name":
				return d.str(&v.Name)
			case "via":
				return d.str(&v.Via)
			case "invite_hash":
				return d.str(&v.InviteHash)
			}
			return false
		})
	case *UserInviteCreated:
		ok = d.object(func(k string) bool {
			switch k {
			case "name":
				return d.str(&v.Name)
			case "invite_hash":
				return d.str(&v.InviteHash)
			case "invite_expires":
				return d.time(&v.InviteExpires)
			}
			return false
		})
	case *TokenCreated:
		ok = d.object(func(k string) bool {
			switch k {
			case "hash":
				return d.str(&v.Hash)
			case "type":
				return d.str(&v.Type)
			case "expires":
				return d.time(&v.Expires)
			case "reusable":
				return d.boolean(&v.Reusable)
			}
			return false
		})
	case *TokenConsumed:
		ok = d.object(func(k string) bool {
			switch k {
			case "hash":
				return d.str(&v.Hash)
			case "agent_id":
				return d.str(&v.AgentID)
			}
			return false
		})
	case *TokenDeleted:
		ok = d.object(func(k string) bool { return k == "hash" && d.str(&v.Hash) })
	case *AgentJoined:
		ok = d.object(func(k string) bool {
			switch k {
			case "token_hash":
				return d.str(&v.TokenHash)
			case "cert_serial":
				return d.str(&v.CertSerial)
			}
			return d.agent(k, &v.Agent)
		})
	case *Agent:
		ok = d.object(func(k string) bool { return d.agent(k, v) })
	case *Database:
		ok = d.object(func(k string) bool { return d.database(k, v) })
	case *DatabaseDeregistered:
		ok = d.object(func(k string) bool { return k == "name" && d.str(&v.Name) })
	case *LockCreated:
		ok = d.object(func(k string) bool {
			switch k {
			case "id":
				return d.str(&v.ID)
			case "target":
				return d.object(func(k string) bool { return d.lockTarget(k, &v.Target) })
			case "message":
				return d.str(&v.Message)
			case "expires":
				return d.time(&v.Expires)
			}
			return false
		})
	case *LockDeleted:
		ok = d.object(func(k string) bool { return k == "id" && d.str(&v.ID) })
	case *Role:
		ok = d.object(func(k string) bool {
			switch k {
			case "name":
				return d.str(&v.Name)
			case "spec":
				return d.object(func(k string) bool { return d.roleSpec(k, &v.Spec) })
			}
			return false
		})
	case *RoleDeleted:
		ok = d.object(func(k string) bool { return k == "name" && d.str(&v.Name) })
	case *ClusterCreated:
		ok = d.object(func(k string) bool {
			switch k {
			case "name":
				return d.str(&v.Name)
			case "version":
				return d.str(&v.Version)
			}
			return false
		})
	case *CACreated:
		ok = d.object(func(k string) bool { return d.caKey(k, &v.CAType, &v.KeyID, &v.KeyAlg, &v.CertPEM) })
	case *CARotationStarted:
		ok = d.object(func(k string) bool { return d.caKey(k, &v.CAType, &v.KeyID, &v.KeyAlg, &v.CertPEM) })
	case *CARotationPhaseChanged:
		ok = d.object(func(k string) bool {
			switch k {
			case "ca_type":
				return d.str(&v.CAType)
			case "phase":
				return d.str(&v.Phase)
			}
			return false
		})
	case *CARotationCompleted:
		ok = d.object(func(k string) bool { return k == "ca_type" && d.str(&v.CAType) })
	case *CARotationRolledBack:
		ok = d.object(func(k string) bool { return k == "ca_type" && d.str(&v.CAType) })
	case *ControlHostCertIssued:
		ok = d.object(func(k string) bool {
			switch k {
			case "serial":
				return d.str(&v.Serial)
			case "cert_pem":
				return d.str(&v.CertPEM)
			case "key_id":
				return d.str(&v.KeyID)
			case "not_before":
				return d.time(&v.NotBefore)
			case "not_after":
				return d.time(&v.NotAfter)
			}
			return false
		})
	case *AccessRequestCreated:
		ok = d.object(func(k string) bool {
			switch k {
			case "id":
				return d.str(&v.ID)
			case "user":
				return d.str(&v.User)
			case "roles":
				return d.strs(&v.Roles)
			case "reason":
				return d.str(&v.Reason)
			case "duration":
				return d.str(&v.Duration)
			case "approve":
				return d.integer(&v.Approve)
			case "deny":
				return d.integer(&v.Deny)
			}
			return false
		})
	case *AccessRequestReviewed:
		ok = d.object(func(k string) bool {
			switch k {
			case "id":
				return d.str(&v.ID)
			case "reviewer":
				return d.str(&v.Reviewer)
			case "verdict":
				return d.str(&v.Verdict)
			case "reason":
				return d.str(&v.Reason)
			}
			return false
		})
	case *AccessRequestApproved:
		ok = d.object(func(k string) bool {
			switch k {
			case "id":
				return d.str(&v.ID)
			case "expires":
				return d.time(&v.Expires)
			}
			return false
		})
	case *AccessRequestDenied:
		ok = d.object(func(k string) bool { return k == "id" && d.str(&v.ID) })
	case *AccessRequestDropped:
		ok = d.object(func(k string) bool { return k == "id" && d.str(&v.ID) })
	case *UserMFAAdded:
		ok = d.object(func(k string) bool { return d.nameType(k, &v.Name, &v.Type) })
	case *UserMFARemoved:
		ok = d.object(func(k string) bool { return d.nameType(k, &v.Name, &v.Type) })
	case *AccessRequestExpired:
		ok = d.object(func(k string) bool { return k == "id" && d.str(&v.ID) })
	case *SSOConnectorSaved:
		ok = d.object(func(k string) bool { return d.ssoConnectorSaved(k, v) })
	case *SSOConnectorDeleted:
		ok = d.object(func(k string) bool { return k == "name" && d.str(&v.Name) })
	case *Query:
		ok = d.object(func(k string) bool { return d.query(k, v) })
	case *QueryResult:
		ok = d.object(func(k string) bool { return d.queryResult(k, v) })
	default:
		return false
	}
	return ok && d.end()
}

// nameType reads a {name, type} object's keys.
func (d *scanner) nameType(k string, name, typ *string) bool {
	switch k {
	case "name":
		return d.str(name)
	case "type":
		return d.str(typ)
	}
	return false
}

// integer reads a non-negative integer of at most 9 digits without a
// leading zero (what json.Marshal writes for the counts here); anything
// else takes the slow path.
func (d *scanner) integer(out *int) bool {
	d.ws()
	n, ok := d.digits(9)
	*out = int(n)
	return ok
}

func (d *scanner) user(k string, v *User) bool {
	switch k {
	case "name":
		return d.str(&v.Name)
	case "roles":
		return d.strs(&v.Roles)
	case "traits":
		return d.strsMap(&v.Traits)
	}
	return false
}

func (d *scanner) agent(k string, v *Agent) bool {
	switch k {
	case "id":
		return d.str(&v.ID)
	case "hostname":
		return d.str(&v.Hostname)
	case "public_addr":
		return d.str(&v.PublicAddr)
	case "host_cert_key_id":
		return d.str(&v.HostCertKeyID)
	case "host_cert_pem":
		return d.str(&v.HostCertPEM)
	case "resources":
		v.Resources = []map[string][]string{}
		return d.array(func() bool {
			var m map[string][]string
			if !d.strsMap(&m) {
				return false
			}
			v.Resources = append(v.Resources, m)
			return true
		})
	}
	return false
}

func (d *scanner) database(k string, v *Database) bool {
	switch k {
	case "name":
		return d.str(&v.Name)
	case "description":
		return d.str(&v.Description)
	case "protocol":
		return d.str(&v.Protocol)
	case "uri":
		return d.str(&v.URI)
	case "labels":
		return d.strMap(&v.Labels)
	case "agent_id":
		return d.str(&v.AgentID)
	case "public_addr":
		return d.str(&v.PublicAddr)
	case "tls":
		t := new(DatabaseTLS)
		v.TLS = t
		return d.object(func(k string) bool {
			switch k {
			case "mode":
				return d.str(&t.Mode)
			case "ca_cert_pem":
				return d.str(&t.CACertPEM)
			case "server_name":
				return d.str(&t.ServerName)
			}
			return false
		})
	}
	return false
}

func (d *scanner) lockTarget(k string, v *LockTarget) bool {
	switch k {
	case "user":
		return d.str(&v.User)
	case "role":
		return d.str(&v.Role)
	case "database":
		return d.str(&v.Database)
	case "agent":
		return d.str(&v.Agent)
	case "session":
		return d.str(&v.Session)
	}
	return false
}

func (d *scanner) roleSpec(k string, v *RoleSpec) bool {
	switch k {
	case "options":
		return d.object(func(k string) bool {
			switch k {
			case "max_session_ttl":
				return d.str(&v.Options.MaxSessionTTL)
			case "db_replication":
				return d.boolean(&v.Options.DBReplication)
			}
			return false
		})
	case "allow":
		return d.object(func(k string) bool { return d.roleConditions(k, &v.Allow) })
	case "deny":
		return d.object(func(k string) bool { return d.roleConditions(k, &v.Deny) })
	}
	return false
}

func (d *scanner) roleConditions(k string, v *RoleConditions) bool {
	switch k {
	case "db_labels":
		return d.strsMap(&v.DBLabels)
	case "db_users":
		return d.strs(&v.DBUsers)
	case "db_names":
		return d.strs(&v.DBNames)
	case "rules":
		v.Rules = []Rule{}
		return d.array(func() bool {
			var r Rule
			ok := d.object(func(k string) bool {
				switch k {
				case "resources":
					return d.strs(&r.Resources)
				case "verbs":
					return d.strs(&r.Verbs)
				}
				return false
			})
			v.Rules = append(v.Rules, r)
			return ok
		})
	}
	return false
}

func (d *scanner) caKey(k string, caType, keyID, keyAlg, certPEM *string) bool {
	switch k {
	case "ca_type":
		return d.str(caType)
	case "key_id":
		return d.str(keyID)
	case "key_alg":
		return d.str(keyAlg)
	case "cert_pem":
		return d.str(certPEM)
	}
	return false
}

// scanner reads the subset of JSON fastUnmarshal takes. b and s hold the
// same bytes; strings are cut from s.
type scanner struct {
	b []byte
	s string
	i int
}

func (d *scanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// end reports whether only whitespace is left.
func (d *scanner) end() bool {
	d.ws()
	return d.i == len(d.s)
}

// maxKeys bounds the keys of one object; more take the slow path.
const maxKeys = 16

// object reads an object, calling field for each key with the scanner at
// the value. A key seen twice fails (encoding/json's merging rules for
// repeats are left to it).
func (d *scanner) object(field func(key string) bool) bool {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return true
	}
	var seen [maxKeys]string
	n := 0
	for {
		var k string
		if !d.str(&k) {
			return false
		}
		if n == maxKeys {
			return false
		}
		for _, s := range seen[:n] {
			if s == k {
				return false
			}
		}
		seen[n] = k
		n++
		d.ws()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return false
		}
		d.i++
		if !field(k) {
			return false
		}
		d.ws()
		if d.i >= len(d.s) {
			return false
		}
		switch d.s[d.i] {
		case '}':
			d.i++
			return true
		case ',':
			d.i++
			d.ws()
		default:
			return false
		}
	}
}

// array reads an array, calling elem with the scanner at each element.
func (d *scanner) array(elem func() bool) bool {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '[' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		d.ws()
		if d.i >= len(d.s) {
			return false
		}
		switch d.s[d.i] {
		case ']':
			d.i++
			return true
		case ',':
			d.i++
		default:
			return false
		}
	}
}

// str reads a string without control characters or \u escapes of
// surrogates. One without escapes is cut from s; one with escapes (\" \\
// \/ \b \f \n \r \t, \uXXXX outside the surrogates: json.Marshal writes
// \u003c for '<') is unescaped into a new string.
func (d *scanner) str(out *string) bool {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return false
	}
	for j := d.i + 1; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			*out = d.s[d.i+1 : j]
			d.i = j + 1
			return true
		case c == '\\':
			return d.escaped(out, j)
		case c < 0x20:
			return false
		}
	}
	return false
}

// escaped finishes str for a string whose first escape is at s[j].
func (d *scanner) escaped(out *string, j int) bool {
	buf := make([]byte, 0, 2*(j-d.i))
	buf = append(buf, d.s[d.i+1:j]...)
	for ; j < len(d.s); j++ {
		c := d.s[j]
		switch {
		case c == '"':
			*out = string(buf)
			d.i = j + 1
			return true
		case c < 0x20:
			return false
		case c != '\\':
			buf = append(buf, c)
			continue
		}
		j++
		if j >= len(d.s) {
			return false
		}
		switch d.s[j] {
		case '"', '\\', '/':
			buf = append(buf, d.s[j])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.s[j+1:])
			if !ok || utf16.IsSurrogate(r) {
				return false // pairs and lone halves: encoding/json's rules
			}
			buf = utf8.AppendRune(buf, r)
			j += 4
		default:
			return false
		}
	}
	return false
}

// hex4 reads the four hex digits that start s.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func (d *scanner) boolean(out *bool) bool {
	d.ws()
	switch {
	case len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "true":
		*out = true
		d.i += 4
	case len(d.s)-d.i >= 5 && d.s[d.i:d.i+5] == "false":
		*out = false
		d.i += 5
	default:
		return false
	}
	return true
}

// time reads a string through time.Time's own UnmarshalJSON, as
// encoding/json does.
func (d *scanner) time(out *time.Time) bool {
	d.ws()
	start := d.i
	var s string
	if !d.str(&s) {
		return false
	}
	return out.UnmarshalJSON(d.b[start:d.i]) == nil
}

// strs reads an array of strings; [] gives an empty, non-nil slice.
func (d *scanner) strs(out *[]string) bool {
	list := []string{}
	ok := d.array(func() bool {
		var s string
		if !d.str(&s) {
			return false
		}
		list = append(list, s)
		return true
	})
	*out = list
	return ok
}

// strsMap reads an object of string arrays; {} gives an empty, non-nil map.
func (d *scanner) strsMap(out *map[string][]string) bool {
	m := map[string][]string{}
	*out = m
	return d.object(func(k string) bool {
		var v []string
		if !d.strs(&v) {
			return false
		}
		m[k] = v
		return true
	})
}

// strMap reads an object of strings; {} gives an empty, non-nil map.
func (d *scanner) strMap(out *map[string]string) bool {
	m := map[string]string{}
	*out = m
	return d.object(func(k string) bool {
		var v string
		if !d.str(&v) {
			return false
		}
		m[k] = v
		return true
	})
}
