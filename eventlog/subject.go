package eventlog

import (
	"strings"
)

// Subject prefixes of the two streams.
const (
	ControlPrefix = "tollgate.control"
	AuditPrefix   = "tollgate.audit"
)

// None is the subject token used where a field does not apply (an audit
// event with no database, no session).
const None = "~"

// Control subject kinds: tollgate.control.<kind>.<name>.
const (
	KindCluster  = "cluster"
	KindCA       = "ca"
	KindRole     = "role"
	KindUser     = "user"
	KindToken    = "token"
	KindAgent    = "agent"
	KindDatabase = "database"
	KindLock     = "lock"
	// KindAccessRequest holds an access request's events, by request id.
	KindAccessRequest = "access_request"
	// KindSSO holds single sign-on connectors' events, by connector name.
	KindSSO = "sso"
	// KindHost holds control's own host identity
	// (tollgate.control.host.control: control.host_cert_issued).
	KindHost = "host"
)

// Token encodes an arbitrary name into one valid NATS subject token. Letters,
// digits, '-' and '_' pass unchanged; every other byte becomes '~' followed
// by two upper-case hex digits; the empty string becomes None ("~"). The
// encoding is injective, so DecodeToken inverts it.
func Token(s string) string {
	if s == "" {
		return None
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if !plainByte(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plainByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('~')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
	return b.String()
}

// DecodeToken inverts Token. Malformed escapes are kept literally.
func DecodeToken(t string) string {
	if t == None {
		return ""
	}
	if !strings.Contains(t, "~") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] == '~' && i+2 < len(t) {
			hi, ok1 := unhex(t[i+1])
			lo, ok2 := unhex(t[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(t[i])
	}
	return b.String()
}

func plainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ControlSubject is the subject of a control event about one entity:
// tollgate.control.<kind>.<Token(name)>. Optimistic concurrency works per
// entity through ExpectLastSubjectSeq on this subject.
func ControlSubject(kind, name string) string {
	return ControlPrefix + "." + kind + "." + Token(name)
}

// TypeToken turns an event type ("query.result") into its subject token
// ("query_result").
func TypeToken(eventType string) string {
	return strings.ReplaceAll(eventType, ".", "_")
}

// AuditSubject is the subject of an audit event:
// tollgate.audit.<db>.<user>.<session>.<type>, each part encoded with Token
// ("" becomes None). "Everything alice did on roach" is
// AuditFilter("roach", "alice", "", "").
func AuditSubject(db, user, session, eventType string) string {
	return AuditPrefix + "." + Token(db) + "." + Token(user) + "." + Token(session) + "." + TypeToken(eventType)
}

// AuditFilter builds a subject filter over the audit stream; an empty part
// matches anything.
func AuditFilter(db, user, session, eventType string) string {
	part := func(s string, enc func(string) string) string {
		if s == "" {
			return "*"
		}
		return enc(s)
	}
	return AuditPrefix + "." + part(db, Token) + "." + part(user, Token) + "." + part(session, Token) + "." + part(eventType, TypeToken)
}
