package auditview

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Described is the human form of one event: the database, user and
// session it belongs to ("" where it belongs to none) and one line saying
// what happened.
type Described struct {
	DB, User, Session, Detail string
}

// Sentence is ev in one line for a chat message (the export's slack
// format): its type, who, and Describe's detail.
func Sentence(ev *eventlog.Event) string {
	d := Describe(*ev)
	who := d.User
	if who == "" {
		who = ev.Actor
	}
	return "Tollgate " + ev.Type + " (" + who + "): " + d.Detail
}

// Describe is the one formatter of events for people, of either stream
// (tollctl audit search, tollctl events ls and tail, the demo's trail).
// It decodes through schemas, so an old version is upcast; an event this
// binary cannot decode says why.
//
// For an audit event DB and User come from its subject, Session from its
// data (an event of no session, such as auth.login, cert.issued or a
// checkpoint, has none); for a control event User is its actor (who made
// the change) and DB the database it is about.
func Describe(ev eventlog.Event) Described {
	var out Described
	if p, ok := strings.CutPrefix(ev.Subject, eventlog.AuditPrefix+"."); ok {
		if parts := strings.Split(p, "."); len(parts) == 4 {
			out.DB, out.User = token(parts[0]), token(parts[1])
		}
	} else {
		out.User = ev.Actor
	}
	v, err := schemas.Decode(ev)
	if err != nil {
		out.Detail = "(cannot decode: " + err.Error() + ")"
		return out
	}
	if d, ok := describeAudit(ev, v, &out); ok {
		out.Detail = d
		return out
	}
	if d, ok := describeControl(ev, v, &out); ok {
		out.Detail = d
		return out
	}
	up, err := schemas.Upcast(ev)
	if err != nil {
		out.Detail = "(cannot decode: " + err.Error() + ")"
		return out
	}
	out.Detail = string(up.Data)
	return out
}

// token is a subject token decoded, "" for the token of no value.
func token(t string) string {
	if t == eventlog.None {
		return ""
	}
	return eventlog.DecodeToken(t)
}

func describeAudit(ev eventlog.Event, v any, out *Described) (string, bool) {
	switch d := v.(type) {
	case *schemas.SessionStarted:
		out.Session = d.SessionID
		s := fmt.Sprintf("db user %s, db name %s, allowed by role %s, client %s, agent %s", d.DBUser, d.DBName, orDash(d.DecidedBy),
			orDash(d.ClientAddr), orDash(d.AgentID))
		if d.Truncated {
			s += " [startup parameters truncated]"
		}
		return s, true
	case *schemas.SessionRejected:
		out.Session = d.SessionID
		return suppressedText(d.Suppressed, "refusals") + d.Code + ": " + d.Reason, true
	case *schemas.Query:
		out.Session = d.SessionID
		s := fmt.Sprintf("#%d %s", d.N, d.Statement)
		if d.Truncated {
			s += " [truncated, sha256 " + d.SHA256 + "]"
		}
		if len(d.Params) > 0 || d.ParamsOmitted > 0 {
			s += "  [" + paramsText(d.Params, d.ParamsOmitted) + "]"
		}
		return s, true
	case *schemas.QueryResult:
		out.Session = d.SessionID
		return fmt.Sprintf("#%d %s", d.N, resultText(d)), true
	case *schemas.QueryPolicy:
		out.Session = d.SessionID
		return fmt.Sprintf("#%d %s", d.N, PolicyText(auditquery.PolicyEntry{Type: ev.Type, Match: *d})), true
	case *schemas.SessionCancel:
		out.Session = d.SessionID
		return strings.TrimSpace(suppressedText(d.Suppressed, "cancel requests") +
			fmt.Sprintf("from %s matched=%v forwarded=%v %s", d.ClientAddr, d.Matched, d.Forwarded, d.Reason)), true
	case *schemas.SessionEnded:
		out.Session = d.SessionID
		s := fmt.Sprintf("%s after %s, %d queries, %d bytes in, %d bytes out", d.Reason,
			time.Duration(d.DurationMS)*time.Millisecond, d.Queries, d.BytesIn, d.BytesOut)
		if d.Message != "" {
			s += "; " + d.Message
		}
		return s, true
	case *schemas.AuthLogin:
		if d.Success {
			return fmt.Sprintf("%s logged in (%s)%s", d.User, loginMethod(d), from(d.RemoteAddr)), true
		}
		return fmt.Sprintf("%s login failed (%s)%s: %s", d.User, loginMethod(d), from(d.RemoteAddr), d.Reason), true
	case *schemas.CertIssued:
		if out.DB == "" {
			out.DB = d.Database
		}
		s := fmt.Sprintf("%s cert for %s (CN %s", d.Kind, d.For, d.Subject)
		if len(d.Hosts) > 0 {
			s += ", hosts " + strings.Join(d.Hosts, ",")
		}
		if d.Database != "" {
			s += ", database " + d.Database
		}
		return s + fmt.Sprintf(") from the %s CA until %s, serial %s", d.CAType, d.NotAfter.UTC().Format(time.RFC3339), d.Serial), true
	case *schemas.AuditCheckpoint:
		return fmt.Sprintf("checkpoint of %s's chain at seq %d (%s)", d.Source, d.Seq, d.Reason), true
	}
	return "", false
}

func describeControl(ev eventlog.Event, v any, out *Described) (string, bool) {
	switch d := v.(type) {
	case *schemas.ClusterCreated:
		return fmt.Sprintf("cluster %s created (version %s)", d.Name, d.Version), true
	case *schemas.CACreated:
		return fmt.Sprintf("%s CA created (%s, pin %s)", d.CAType, d.KeyAlg, pinOf(d.CertPEM)), true
	case *schemas.CARotationStarted:
		return fmt.Sprintf("%s CA rotation started (phase init): new key %s, pin %s", d.CAType, d.KeyAlg, pinOf(d.CertPEM)), true
	case *schemas.CARotationPhaseChanged:
		return fmt.Sprintf("%s CA rotation: phase %s", d.CAType, d.Phase), true
	case *schemas.CARotationCompleted:
		return fmt.Sprintf("%s CA rotation completed: only the new key is trusted", d.CAType), true
	case *schemas.CARotationRolledBack:
		return fmt.Sprintf("%s CA rotation rolled back: only the old key is trusted", d.CAType), true
	case *schemas.Role:
		return fmt.Sprintf("role %s %s", d.Name, verb(ev.Type)), true
	case *schemas.RoleDeleted:
		return "role " + d.Name + " deleted", true
	case *schemas.UserCreated:
		if d.SSO != "" {
			return fmt.Sprintf("user %s created by single sign-on (connector %s): %s", d.Name, d.SSO, userText(d.User)), true
		}
		return fmt.Sprintf("user %s created: %s; invite valid until %s", d.Name, userText(d.User), d.InviteExpires.UTC().Format(time.RFC3339)), true
	case *schemas.User:
		return fmt.Sprintf("user %s updated: %s", d.Name, userText(*d)), true
	case *schemas.UserDeleted:
		return "user " + d.Name + " deleted", true
	case *schemas.UserPasswordSet:
		return fmt.Sprintf("password of %s set (via %s)", d.Name, d.Via), true
	case *schemas.UserInviteCreated:
		return fmt.Sprintf("new invite for %s, valid until %s", d.Name, d.InviteExpires.UTC().Format(time.RFC3339)), true
	case *schemas.TokenCreated:
		use := "single-use"
		if d.Reusable {
			use = "reusable"
		}
		return fmt.Sprintf("%s join token %s created (%s, expires %s)", d.Type, shortHash(d.Hash), use, d.Expires.UTC().Format(time.RFC3339)), true
	case *schemas.TokenConsumed:
		return fmt.Sprintf("join token %s used by agent %s", shortHash(d.Hash), d.AgentID), true
	case *schemas.TokenDeleted:
		return "join token " + shortHash(d.Hash) + " deleted", true
	case *schemas.AgentJoined:
		return fmt.Sprintf("agent %s joined: %s", d.ID, agentText(d.Agent)), true
	case *schemas.Agent:
		return fmt.Sprintf("agent %s updated: %s", d.ID, agentText(*d)), true
	case *schemas.Database:
		out.DB = d.Name
		s := fmt.Sprintf("database %s %s: %s at %s", d.Name, verb(ev.Type), d.Protocol, d.URI)
		if len(d.Labels) > 0 {
			s += ", labels " + labelsText(d.Labels)
		}
		if d.AgentID != "" {
			s += ", agent " + d.AgentID
		} else {
			s += ", served by agents whose selectors match"
		}
		return s, true
	case *schemas.DatabaseDeregistered:
		out.DB = d.Name
		return "database " + d.Name + " removed", true
	case *schemas.LockCreated:
		out.DB = d.Target.Database
		until := "until unlocked"
		if !d.Expires.IsZero() {
			until = "until " + d.Expires.UTC().Format(time.RFC3339)
		}
		return strings.TrimSpace(fmt.Sprintf("lock %s on %s %s: %s", d.ID, targetText(d.Target), until, d.Message)), true
	case *schemas.LockDeleted:
		return "lock " + d.ID + " removed", true
	case *schemas.AccessRequestCreated:
		s := fmt.Sprintf("access request %s: %s asks for %s for %s", d.ID, d.User, strings.Join(d.Roles, ","), d.Duration)
		if d.Reason != "" {
			s += fmt.Sprintf(" (%q)", d.Reason)
		}
		return s, true
	case *schemas.AccessRequestReviewed:
		s := fmt.Sprintf("access request %s: %s reviews it: %s", d.ID, d.Reviewer, d.Verdict)
		if d.Reason != "" {
			s += fmt.Sprintf(" (%q)", d.Reason)
		}
		return s, true
	case *schemas.AccessRequestApproved:
		return fmt.Sprintf("access request %s approved: granted until %s", d.ID, d.Expires.UTC().Format(time.RFC3339)), true
	case *schemas.AccessRequestDenied:
		return "access request " + d.ID + " denied", true
	case *schemas.AccessRequestDropped:
		return "access request " + d.ID + " dropped", true
	case *schemas.SSOConnectorSaved:
		c := d.OIDC
		return fmt.Sprintf("single sign-on connector %s saved (%s, issuer %s, client %s, %d claim mappings)", c.Name, d.Kind, c.IssuerURL, c.ClientID, len(c.ClaimsToRoles)), true
	case *schemas.SSOConnectorDeleted:
		return "single sign-on connector " + d.Name + " deleted", true
	case *schemas.UserMFAAdded:
		return "user " + d.Name + " enrolled a second factor (" + d.Type + ")", true
	case *schemas.UserMFARemoved:
		return "second factor (" + d.Type + ") of user " + d.Name + " removed", true
	case *schemas.AccessRequestExpired:
		return "access request " + d.ID + " expired", true
	case *schemas.ControlHostCertIssued:
		return fmt.Sprintf("control host cert %s issued, valid until %s", d.Serial, d.NotAfter.UTC().Format(time.RFC3339)), true
	}
	return "", false
}

// verb is the last word of an event type: created, updated, registered.
func verb(typ string) string {
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

func userText(u schemas.User) string {
	return fmt.Sprintf("roles %s; db users %s; db names %s", orDash(strings.Join(u.Roles, ",")),
		orDash(strings.Join(u.Traits["db_users"], ",")), orDash(strings.Join(u.Traits["db_names"], ",")))
}

func agentText(a schemas.Agent) string {
	parts := []string{"host " + a.Hostname}
	if a.PublicAddr != "" {
		parts = append(parts, "address "+a.PublicAddr)
	}
	if a.Version != "" {
		parts = append(parts, "version "+a.Version)
	}
	if a.HostCertKeyID != "" {
		parts = append(parts, "host cert from key "+a.HostCertKeyID)
	}
	return strings.Join(parts, ", ")
}

func targetText(t schemas.LockTarget) string {
	var parts []string
	for _, kv := range [][2]string{{"user", t.User}, {"role", t.Role}, {"db", t.Database}, {"agent", t.Agent}, {"session", t.Session}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func labelsText(m map[string]string) string {
	kv := make([]string, 0, len(m))
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func pinOf(certPEM string) string {
	p, err := pki.Pin([]byte(certPEM))
	if err != nil {
		return "(unreadable cert)"
	}
	return p
}

// shortHash shortens a token hash (a hash, not the token) for reading.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func from(addr string) string {
	if addr == "" {
		return ""
	}
	return " from " + addr
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// suppressedText leads the line of a flood summary.
func suppressedText(n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("[%d %s not recorded one by one (rate limit); the last:] ", n, what)
}

// resultText is a query's outcome: the command tag and rows, or the
// error, and how long it took.
func resultText(r *schemas.QueryResult) string {
	took := time.Duration(r.DurationUS) * time.Microsecond
	switch r.Status {
	case schemas.ResultError:
		return fmt.Sprintf("ERROR %s: %s (%s)", r.SQLState, r.Error, took)
	case schemas.ResultOK:
		if r.CommandTag == "" {
			return fmt.Sprintf("ok, %s (%s)", rows(r.Rows), took)
		}
		return fmt.Sprintf("%s, %s (%s)", r.CommandTag, rows(r.Rows), took)
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s, %s (%s)", r.Status, r.CommandTag, rows(r.Rows), took))
}

func rows(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.FormatInt(n, 10) + " rows"
}

// paramsText shows bound parameters: text as quoted strings, NULL, and
// binary ones in hex (with their integer value when they have an
// integer's size, as int2/int4/int8 are sent); omitted ones counted.
func paramsText(ps []schemas.QueryParam, omitted int) string {
	parts := make([]string, 0, len(ps)+1)
	for i, p := range ps {
		parts = append(parts, fmt.Sprintf("$%d=%s", i+1, paramText(p)))
	}
	if omitted > 0 {
		parts = append(parts, fmt.Sprintf("(%d more not recorded)", omitted))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func paramText(p schemas.QueryParam) string {
	var s string
	switch p.Format {
	case "null":
		return "NULL"
	case "binary":
		b, err := base64.StdEncoding.DecodeString(p.Value)
		if err != nil {
			s = "binary:" + p.Value
			break
		}
		const maxHex = 32
		if len(b) > maxHex {
			s = fmt.Sprintf("binary:%s…(%d bytes)", hex.EncodeToString(b[:maxHex]), len(b))
			break
		}
		s = "binary:" + hex.EncodeToString(b)
		switch len(b) {
		case 2, 4, 8:
			var v int64
			for _, x := range b {
				v = v<<8 | int64(x)
			}
			shift := 64 - 8*len(b)
			s += " (int " + strconv.FormatInt(v<<shift>>shift, 10) + ")"
		}
	default:
		s = strconv.Quote(p.Value)
	}
	if p.SHA256 != "" {
		s += " [cut, sha256 " + p.SHA256 + "]"
	}
	return s
}

// loginMethod names a login's method, with its connector for single
// sign-on.
func loginMethod(d *schemas.AuthLogin) string {
	if d.Connector != "" {
		return d.Method + " " + d.Connector
	}
	return d.Method
}
