package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
)

// ssoFlags are login's single sign-on flags.
type ssoFlags struct {
	connector string
	noBrowser bool
	timeout   time.Duration
}

// callbackResult is what the browser brought back to the loopback
// listener.
type callbackResult struct {
	code string
	err  error
}

// oidcLogin logs in through a single sign-on connector: control gives the
// provider's URL, a browser logs in there and comes back to a listener on
// 127.0.0.1, control exchanges the code and issues the cert.
func (a *app) oidcLogin(ctx context.Context, c *client.Client, f authFlags, pubPEM []byte) (wire.Cert, error) {
	ctx, cancel := context.WithTimeout(ctx, f.sso.timeout)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return wire.Cert{}, fmt.Errorf("listen for the browser's return on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	auth, err := c.SSOBegin(ctx, wire.SSOBegin{Connector: f.sso.connector, RedirectURL: "http://" + ln.Addr().String() + "/callback"})
	if err != nil {
		return wire.Cert{}, err
	}
	got := make(chan callbackResult, 1)
	done := make(chan error, 1)
	srv := &http.Server{Handler: callbackHandler(auth.State, got, done), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Let the browser's page say how the login ended.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(a.stderr, "Log in through %s in your browser:\n  %s\n", auth.Connector, auth.URL)
	if !f.sso.noBrowser {
		if err := openBrowser(auth.URL); err != nil {
			fmt.Fprintf(a.stderr, "(no browser opened: %v; open the URL above yourself)\n", err)
		}
	}
	fmt.Fprintf(a.stderr, "Waiting for the browser to come back (up to %s)…\n", f.sso.timeout)
	var res callbackResult
	select {
	case res = <-got:
	case <-ctx.Done():
		return wire.Cert{}, fmt.Errorf("no browser came back from the provider within %s: run toll login --auth=oidc again (--timeout for longer)", f.sso.timeout)
	}
	if res.err != nil {
		done <- res.err
		return wire.Cert{}, res.err
	}
	login, err := c.SSOFinish(ctx, wire.SSOFinish{State: auth.State, Code: res.code, PublicKeyPEM: string(pubPEM), TTL: f.ttl})
	if err == nil && login.MFARequired {
		var code string
		if code, err = a.oneTimeCode(f.otp, "One-time code of your second factor ("+login.User+"): "); err == nil {
			login, err = c.SSOFinish(ctx, wire.SSOFinish{Pending: login.Pending, OTP: code, PublicKeyPEM: string(pubPEM), TTL: f.ttl})
		}
	}
	if err == nil && login.Cert == nil {
		err = errors.New("control answered the login without a certificate")
	}
	done <- err
	if err != nil {
		return wire.Cert{}, err
	}
	return *login.Cert, nil
}

// callbackHandler takes the provider's redirect: the code when its state
// is this login's, and shows the login's outcome in the browser.
func callbackHandler(state string, got chan<- callbackResult, done <-chan error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			http.Error(w, "This is not the login toll started: log in from toll again.", http.StatusBadRequest)
			return
		}
		res := callbackResult{code: q.Get("code")}
		if e := q.Get("error"); e != "" {
			res.err = fmt.Errorf("the provider refused the login: %s %s", e, q.Get("error_description"))
		} else if res.code == "" {
			res.err = errors.New("the provider came back without a code")
		}
		select {
		case got <- res:
		default:
			http.Error(w, "This login is already finishing.", http.StatusConflict)
			return
		}
		err := <-done
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "<!doctype html><title>Tollgate</title><p>Login failed: %s</p><p>See the terminal.</p>", html.EscapeString(err.Error()))
			return
		}
		fmt.Fprint(w, "<!doctype html><title>Tollgate</title><p>Logged in. You may close this window and go back to the terminal.</p>")
	})
	return mux
}

// openBrowser opens url in the desktop's browser.
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%s not found", name)
	}
	return exec.Command(path, url).Start()
}
