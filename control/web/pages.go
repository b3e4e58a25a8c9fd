package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/auditview"
	"github.com/tollgate-db/tollgate/schemas"
)

var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05.000Z")
	},
	"rel": func(t, from time.Time) string {
		if t.IsZero() || from.IsZero() {
			return ""
		}
		return "+" + t.Sub(from).Round(time.Millisecond).String()
	},
	"join":  strings.Join,
	"short": func(s string) string { return shortID(s) },
	"long":  func(s string) bool { return len(s) > 200 },
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

type loginData struct {
	Next, User string
	NeedOTP    bool
	// Connectors are the single sign-on connectors to log in through.
	Connectors []string
	// Pending is a single sign-on login waiting for its one-time code.
	Pending string
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "login", page{Title: "Log in", Data: loginData{Next: r.URL.Query().Get("next"), Connectors: c.svc.SSO().Names()}})
}

// ssoStart sends the browser to the connector's provider, to come back
// to this control's console callback.
func (c *Console) ssoStart(w http.ResponseWriter, r *http.Request) {
	auth, err := c.svc.SSO().BeginConsole(r.Context(), r.URL.Query().Get("connector"), "https://"+r.Host+control.ConsoleSSOPath)
	if err != nil {
		e := control.AsError(err)
		c.render(w, statusOf(e.Code), "login", page{Title: "Log in", Error: e.Message, Data: loginData{Connectors: c.svc.SSO().Names()}})
		return
	}
	http.Redirect(w, r, auth.URL, http.StatusSeeOther)
}

// ssoCallback finishes a single sign-on login with the provider's code.
func (c *Console) ssoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		c.render(w, http.StatusUnauthorized, "login", page{Title: "Log in", Error: "the provider refused the login: " + e + " " + q.Get("error_description"),
			Data: loginData{Connectors: c.svc.SSO().Names()}})
		return
	}
	c.ssoFinish(w, r, wire.SSOFinish{State: q.Get("state"), Code: q.Get("code")})
}

// ssoOTP finishes a pending single sign-on login with its one-time code.
func (c *Console) ssoOTP(w http.ResponseWriter, r *http.Request) {
	c.ssoFinish(w, r, wire.SSOFinish{Pending: r.PostFormValue("pending"), OTP: r.PostFormValue("otp")})
}

func (c *Console) ssoFinish(w http.ResponseWriter, r *http.Request, req wire.SSOFinish) {
	token, cs, pending, err := c.svc.SSO().FinishConsole(r.Context(), req, r.RemoteAddr)
	if err != nil {
		e := control.AsError(err)
		c.render(w, statusOf(e.Code), "login", page{Title: "Log in", Error: e.Message, Data: loginData{Connectors: c.svc.SSO().Names()}})
		return
	}
	if pending.MFARequired {
		c.render(w, http.StatusUnauthorized, "login", page{Title: "Log in", Error: "enter the one-time code of your authenticator app",
			Data: loginData{User: pending.User, Pending: pending.Pending, NeedOTP: true}})
		return
	}
	setCookie(w, token, cs.Expires)
	// The provider's redirect brought the browser here from another site:
	// a SameSite=Strict cookie would not go along a redirect of that
	// navigation, so this page moves on by itself (same-site).
	c.render(w, http.StatusOK, "continue", page{Title: "Logged in", Continue: Prefix + "/audit"})
}

// safeNext keeps a redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix+"/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") && !strings.HasPrefix(next, Prefix+"/login") {
		return next
	}
	return Prefix + "/audit"
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	user, pw, otp := r.PostFormValue("user"), r.PostFormValue("password"), r.PostFormValue("otp")
	d := loginData{Next: r.PostFormValue("next"), User: user}
	if user == "" || pw == "" {
		c.render(w, http.StatusBadRequest, "login", page{Title: "Log in", Error: "enter your user name and password", Data: d})
		return
	}
	token, cs, err := c.svc.Auth().ConsoleLogin(r.Context(), wire.Login{User: user, Password: pw, OTP: otp}, r.RemoteAddr)
	if errors.Is(err, control.ErrMFARequired) {
		d.NeedOTP = true
		c.render(w, http.StatusUnauthorized, "login", page{Title: "Log in", Error: "enter the one-time code of your authenticator app too", Data: d})
		return
	}
	if err != nil {
		e := control.AsError(err)
		d.Connectors = c.svc.SSO().Names()
		c.render(w, statusOf(e.Code), "login", page{Title: "Log in", Error: e.Message, Data: d})
		return
	}
	setCookie(w, token, cs.Expires)
	http.Redirect(w, r, safeNext(d.Next), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, _ session) (string, page, error) {
	clearCookie(w)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
	return "", page{}, nil
}

// auditRow is one event as the search shows it.
type auditRow struct {
	Seq      uint64
	Time     time.Time
	Type     string
	User, DB string
	Session  string
	Sentence string
	JSON     string
}

type auditData struct {
	Types          []string
	Rows           []auditRow
	More           bool
	Next           string
	Since, Until   string
	User, DB, Sess string
	Type           string
}

func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2026-12-01T10:00 (UTC)", v)
}

// pageSize is the audit search's page; More and the next-page link say
// when more events match, so nothing is cut off unseen.
const pageSize = 100

func (c *Console) audit(_ http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	q := r.URL.Query()
	d := auditData{User: q.Get("user"), DB: q.Get("db"), Sess: q.Get("session"), Type: q.Get("type"),
		Since: q.Get("since"), Until: q.Get("until"), Types: auditTypes()}
	p := page{Title: "Audit", Nav: "audit", Data: &d}
	from, err := parseTime(d.Since)
	if err != nil {
		return "audit", p, &control.Error{Code: control.CodeInvalid, Message: "since: " + err.Error()}
	}
	to, err := parseTime(d.Until)
	if err != nil {
		return "audit", p, &control.Error{Code: control.CodeInvalid, Message: "until: " + err.Error()}
	}
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	search := wire.AuditSearch{User: d.User, DB: d.DB, Session: d.Sess, From: from, To: to, After: after, Limit: pageSize}
	if d.Type != "" {
		search.Types = []string{d.Type}
	}
	res, err := c.svc.Audit().Search(r.Context(), s.caller, search)
	if err != nil {
		return "audit", p, err
	}
	for _, e := range res.Events {
		ev := e.Event
		desc := auditview.Describe(ev)
		d.Rows = append(d.Rows, auditRow{Seq: e.Seq, Time: ev.Time, Type: ev.Type, User: desc.User, DB: desc.DB,
			Session: desc.Session, Sentence: auditview.Sentence(&ev), JSON: string(ev.Data)})
	}
	d.More = res.More
	if res.More {
		next := r.URL.Query()
		next.Set("after", strconv.FormatUint(res.Cursor, 10))
		d.Next = Prefix + "/audit?" + next.Encode()
	}
	return "audit", p, nil
}

type sessionData struct {
	T        auditquery.Transcript
	Start    time.Time
	Chain    string
	ChainOK  bool
	Problems []auditquery.VerifyProblem
	Steps    []step
}

// step is one line of a session's timeline.
type step struct {
	At     time.Time
	Kind   string
	Text   string
	Detail string
	Long   bool
}

func (c *Console) sessionPage(_ http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	t, err := c.svc.Audit().Session(r.Context(), s.caller, r.PathValue("id"))
	p := page{Title: "Session " + shortID(r.PathValue("id")), Nav: "audit"}
	if err != nil {
		return "error", p, err
	}
	d := sessionData{T: t, Start: t.StartedAt}
	if d.Start.IsZero() {
		d.Start = t.RejectedAt
	}
	d.Steps = timeline(t)
	rep, err := c.svc.Audit().Verify(r.Context(), s.caller, wire.AuditVerify{Since: d.Start.Add(-time.Second)})
	switch {
	case err != nil:
		d.Chain = "not verified: " + control.AsError(err).Message
	case rep.OK():
		d.Chain, d.ChainOK = "verified: every hash chain since this session began is intact", true
	default:
		d.Chain, d.Problems = fmt.Sprintf("BROKEN: %d problem(s) in the audit chains since this session began", len(rep.Problems)), rep.Problems
	}
	p.Data = d
	return "session", p, nil
}

// timeline lays a transcript out in time order.
func timeline(t auditquery.Transcript) []step {
	var out []step
	if st := t.Started; st != nil {
		out = append(out, step{At: t.StartedAt, Kind: "start", Text: fmt.Sprintf("%s connected as db user %s to %s/%s (role %s)", st.User, st.DBUser, st.Database, st.DBName, st.DecidedBy),
			Detail: startupText(st)})
	}
	if rj := t.Rejected; rj != nil {
		out = append(out, step{At: t.RejectedAt, Kind: "rejected", Text: "session refused: " + rj.Reason})
	}
	for _, q := range t.Queries {
		text := q.Query.Statement
		detail := ""
		if len(q.Query.Params) > 0 {
			var ps []string
			for i, pv := range q.Query.Params {
				v := pv.Value
				if pv.Format == "null" {
					v = "NULL"
				}
				ps = append(ps, fmt.Sprintf("$%d=%s", i+1, v))
			}
			detail = "parameters: " + strings.Join(ps, ", ")
		}
		if res := q.Result; res != nil {
			outcome := fmt.Sprintf("%s, %d rows, %s", res.CommandTag, res.Rows, time.Duration(res.DurationUS)*time.Microsecond)
			if res.SQLState != "" {
				outcome = "error " + res.SQLState + ": " + res.Error
			}
			detail = strings.TrimSpace(detail + "\nresult: " + outcome)
		}
		for _, pm := range q.Policy {
			detail = strings.TrimSpace(detail + "\n" + auditview.PolicyText(pm))
		}
		out = append(out, step{At: q.At, Kind: "query", Text: text, Detail: detail, Long: len(text) > 200})
	}
	for _, cn := range t.Cancels {
		out = append(out, step{At: cn.At, Kind: "cancel", Text: "cancel request from " + cn.Cancel.ClientAddr})
	}
	if e := t.Ended; e != nil {
		out = append(out, step{At: t.EndedAt, Kind: "end", Text: strings.TrimSpace(fmt.Sprintf("session ended: %s %s (%d queries)", e.Reason, e.Message, e.Queries))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func startupText(st *schemas.SessionStarted) string {
	if len(st.Params) == 0 {
		return ""
	}
	keys := make([]string, 0, len(st.Params))
	for k := range st.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, st.Params[k])
	}
	return strings.TrimSpace("startup: " + b.String())
}

// auditTypes are the audit stream's event types, for the search's menu.
func auditTypes() []string {
	var out []string
	for _, in := range schemas.All() {
		if in.Stream == schemas.StreamAudit {
			out = append(out, in.Type)
		}
	}
	return out
}
