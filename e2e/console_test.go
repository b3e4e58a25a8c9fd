package e2e

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/internal/browsertest"
)

// TestConsoleLocksALivePsqlSession: alice's psql runs a long statement
// through the agent; carol, an auditor and editor, logs in to the web
// console of the running control in headless Chromium, sees the session
// on the live page and locks that session; the agent ends it (psql
// fails) and alice's next session opens, the session leaves the page
// without a reload, and the session's page shows how it ended and that
// its chain verifies. PostgreSQL's log and the audit agree.
func TestConsoleLocksALivePsqlSession(t *testing.T) {
	w := newWorld(t)
	_, controlAddr, pin := w.startLocalControl("")
	w.signUpAlice(controlAddr, pin)
	pg := w.alicesPostgres(controlAddr, nil, nil, "")
	agent := w.startAgent(controlAddr, pin, pg.Addr())

	// carol signs up through the API (toll's identity on this machine is alice's).
	out := w.run("", "tollctl", "users", "add", "--roles=auditor,editor", "carol")
	invite := regexp.MustCompile(`--invite[= ](\S+)`).FindStringSubmatch(out)
	require.Len(t, invite, 2, out)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	const carolPassword = "carol-console-password"
	resp, err := hc.Post("https://"+controlAddr+"/v1/signup", "application/json",
		strings.NewReader(`{"invite":"`+invite[1]+`","password":"`+carolPassword+`","public_key_pem":`+jsonString(testPublicKey(t))+`}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	psql := w.start("toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-c", "select pg_sleep(120)")
	eventually(t, "the session is audited", psql, func() bool {
		o, _, err := w.try("", "tollctl", "audit", "search", "--user=alice", "--type=query")
		return err == nil && strings.Contains(o, "pg_sleep(120)")
	})

	ctx := browsertest.Context(t)
	base := "https://" + controlAddr
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	do(chromedp.Navigate(base+"/web/live"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "carol"), chromedp.SendKeys(chromedp.ID("password"), carolPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("#live tbody tr")))
	// The live table is redrawn when the audit stream says so: read it
	// until it holds alice's row (a redraw may replace it while it is read).
	var row string
	var sid chromedp.AttributeResult
	for range 100 {
		// A node replaced between finding it and reading it is
		// "No node with given id found": read again.
		row, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#live tbody tr")))
		if err == nil {
			sid, err = chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#live tbody tr"), "data-session"))
		}
		if err == nil && strings.Contains(row, "alice") && sid.Exists {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, err)
	require.Contains(t, row, "alice")
	require.True(t, sid.Exists)

	do(chromedp.Click(chromedp.CSS(`#live tbody tr button.lock-session`)))
	select {
	case <-psql.done:
	case <-time.After(90 * time.Second):
		t.Fatal("the lock did not end alice's psql session")
	}
	require.NotEqual(t, 0, psql.cmd.ProcessState.ExitCode(), psql.out.String())
	// The lock was that session's: alice's next session opens.
	got := w.run("", "toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-A", "-t", "-c", "select 'next session'")
	require.Equal(t, "next session", strings.TrimSpace(got))
	do(chromedp.WaitNotPresent(chromedp.CSS(`tr[data-session="` + sid.Value + `"]`)))

	do(chromedp.Navigate(base+"/web/sessions/"+url.PathEscape(sid.Value)), chromedp.WaitVisible(chromedp.ID("timeline")))
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	require.NoError(t, err)
	require.Contains(t, timeline, "select pg_sleep(120)")
	require.Contains(t, timeline, "session ended: lock terminating connection: access locked by Tollgate: locked from the web console by carol")
	chain, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("chain")))
	require.NoError(t, err)
	require.Contains(t, chain, "verified", "a real agent's chain verifies")
	requireSessionsAgree(t, w, agent, pg)
}

func testPublicKey(t *testing.T) string {
	_, pub, err := client.NewKey()
	require.NoError(t, err)
	return string(pub)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
