package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is served.
const Prefix = "/web"

// cookieName is the console session's cookie.
const cookieName = "tollgate_console"

// csp is every page's Content-Security-Policy: only the console's own
// scripts, styles and forms; no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ExportStatus reports the export subscribers of control's process (the
// cluster page's lag); nil when the process runs none.
type ExportStatus func(ctx context.Context) wire.ExportStatus

// Console serves the web console of one control Service.
type Console struct {
	svc    *control.Service
	export ExportStatus
	log    zerolog.Logger
	pages  map[string]*template.Template
	mux    *http.ServeMux
}

// New returns the console of svc. Its templates are embedded: one that
// does not parse is a bug of this build, and New panics (every test
// building a console would fail).
func New(svc *control.Service, log zerolog.Logger, export ExportStatus) *Console {
	c := &Console{svc: svc, export: export, log: log.With().Str("component", "console").Logger(), pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, "/layout.html") {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
		c.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	c.routes()
	return c
}

// Handler serves everything under Prefix.
func (c *Console) Handler() http.Handler { return c.mux }

// session is a request's console session.
type session struct {
	caller control.Caller
	cs     control.ConsoleSession
}

// page is what a handler renders: its template and data.
type page struct {
	Title   string
	Nav     string
	User    string
	CSRF    string
	Error   string
	Notice  string
	Data    any
	Refresh bool
	// Continue, when set, is where the page sends the browser on (a
	// same-site navigation, so the SameSite=Strict cookie goes along).
	Continue string
}

type handler func(w http.ResponseWriter, r *http.Request, s session) (string, page, error)

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET "+Prefix+"/static/", headers(http.StripPrefix(Prefix+"/static/", http.FileServerFS(static))))
	c.mux.Handle("GET "+Prefix+"/login", headers(http.HandlerFunc(c.loginForm)))
	c.mux.Handle("POST "+Prefix+"/login", headers(http.HandlerFunc(c.login)))
	c.mux.Handle("GET "+Prefix+"/sso/start", headers(http.HandlerFunc(c.ssoStart)))
	c.mux.Handle("GET "+control.ConsoleSSOPath, headers(http.HandlerFunc(c.ssoCallback)))
	c.mux.Handle("POST "+Prefix+"/sso/otp", headers(http.HandlerFunc(c.ssoOTP)))
	c.mux.Handle("GET "+Prefix+"/{$}", headers(http.RedirectHandler(Prefix+"/audit", http.StatusSeeOther)))
	c.mux.Handle("GET "+Prefix, headers(http.RedirectHandler(Prefix+"/audit", http.StatusSeeOther)))
	c.mux.Handle("POST "+Prefix+"/logout", c.authed(true, c.logout))
	c.mux.Handle("GET "+Prefix+"/audit", c.authed(false, c.audit))
	c.mux.Handle("GET "+Prefix+"/sessions/{id}", c.authed(false, c.sessionPage))
	c.mux.Handle("GET "+Prefix+"/live", c.authed(false, c.live))
	c.mux.Handle("GET "+Prefix+"/live/events", c.authed(false, c.liveEvents))
	c.mux.Handle("POST "+Prefix+"/locks", c.authed(true, c.lock))
	c.mux.Handle("GET "+Prefix+"/access", c.authed(false, c.accessAt))
	c.mux.Handle("GET "+Prefix+"/requests", c.authed(false, c.requests))
	c.mux.Handle("POST "+Prefix+"/requests/{id}/review", c.authed(true, c.review))
	c.mux.Handle("GET "+Prefix+"/cluster", c.authed(false, c.cluster))
	c.mux.Handle(Prefix+"/", headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such console page", http.StatusNotFound)
	})))
}

// headers sets every answer's security headers.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		next.ServeHTTP(w, r)
	})
}

// authed serves h for a request with a valid console session (else the
// login page); change marks a POST, whose CSRF token must match.
func (c *Console) authed(change bool, h handler) http.Handler {
	return headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieName)
		if err != nil {
			c.toLogin(w, r, "")
			return
		}
		caller, cs, err := c.svc.Auth().ConsoleCaller(r.Context(), ck.Value)
		if err != nil {
			clearCookie(w)
			c.toLogin(w, r, control.AsError(err).Message)
			return
		}
		if change && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(cs.CSRF)) != 1 {
			c.log.Warn().Str("user", cs.User).Str("path", r.URL.Path).Msg("console change refused: no or wrong CSRF token")
			http.Error(w, "this change did not come from a console page (CSRF token missing or wrong)", http.StatusForbidden)
			return
		}
		s := session{caller: caller, cs: cs}
		name, p, err := h(w, r, s)
		if name == "" && err == nil {
			return // the handler answered (a redirect)
		}
		p.User, p.CSRF = cs.User, cs.CSRF
		status := http.StatusOK
		if err != nil {
			e := control.AsError(err)
			p.Error = e.Message
			status = statusOf(e.Code)
			if name == "" {
				name = "error"
			}
		}
		c.render(w, status, name, p)
	}))
}

func statusOf(code string) int {
	switch code {
	case control.CodeForbidden:
		return http.StatusForbidden
	case control.CodeNotFound:
		return http.StatusNotFound
	case control.CodeInvalid:
		return http.StatusBadRequest
	case control.CodeUnauthorized, control.CodeMFARequired:
		return http.StatusUnauthorized
	case control.CodeLocked:
		return http.StatusLocked
	case control.CodeConflict, control.CodeExists:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, msg string) {
	if r.Method != http.MethodGet {
		http.Error(w, "log in to the console first", http.StatusUnauthorized)
		return
	}
	c.render(w, http.StatusUnauthorized, "login", page{Title: "Log in", Error: msg, Data: loginData{Next: r.URL.RequestURI(), Connectors: c.svc.SSO().Names()}})
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := c.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		c.log.Error().Err(err).Str("page", name).Msg("render console page")
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: Prefix, Expires: expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}
