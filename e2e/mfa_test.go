package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
)

// TestTOTPAtLogin: alice enrolls an authenticator app with toll mfa add
// (no terminal: it prints the key and says how to confirm) and toll mfa
// confirm; from then on toll login needs a code: without one it says to
// pass --otp, a wrong one and a used one fail, a fresh one logs her in.
// The admin's tollctl users reset-mfa removes it (a lost device); every
// step is in the log and the secret is not.
func TestTOTPAtLogin(t *testing.T) {
	w := newWorld(t)
	control, controlAddr, pin := w.startLocalControl("none")
	w.signUpAlice(controlAddr, pin)
	login := func(otp string) (string, string, error) {
		args := []string{"login", "--proxy=" + controlAddr, "--user=alice", "--password-stdin", "--ca-pin=" + pin}
		if otp != "" {
			args = append(args, "--otp="+otp)
		}
		return w.try(alicePassword, "toll", args...)
	}
	_, errOut, err := login("")
	require.NoError(t, err, errOut)

	out := w.run("", "toll", "mfa", "add", "--type=totp")
	require.Contains(t, out, "toll mfa confirm CODE")
	m := regexp.MustCompile(`secret=([A-Z2-7]+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	secret := m[1]
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		require.NoError(t, err)
		return c
	}
	require.Contains(t, w.run("", "toll", "mfa", "confirm", code(time.Now())), "Second factor enrolled")
	require.Contains(t, w.run("", "toll", "mfa", "ls"), "totp")

	_, errOut, err = login("")
	require.Error(t, err)
	require.Contains(t, errOut, "pass --otp=CODE")
	_, errOut, err = login("000000")
	require.Error(t, err)
	require.Contains(t, errOut, "wrong one-time code")
	next := code(time.Now().Add(30 * time.Second)) // the enrolling code is spent; the next step's is accepted
	_, errOut, err = login(next)
	require.NoError(t, err, errOut)
	_, errOut, err = login(next)
	require.Error(t, err)
	require.Contains(t, errOut, "used already")

	require.Contains(t, w.run("", "tollctl", "users", "reset-mfa", "alice"), "Second factor of alice removed")
	_, errOut, err = login("")
	require.NoError(t, err, errOut)

	events := w.run("", "tollctl", "events", "ls", "--stream=control")
	require.Contains(t, events, "user.mfa_added")
	require.Contains(t, events, "user.mfa_removed")
	require.NotContains(t, w.run("", "tollctl", "events", "ls", "--stream=control", "--format=json"), secret, "the secret is in no event")
	require.NotContains(t, control.out.String(), secret, "nor in control's log")
}

// strictRole reaches every database, with a second factor for each session.
const strictRole = `kind: role
version: v7
metadata:
  name: strict
spec:
  options:
    require_mfa: session
  allow:
    db_labels:
      '*': '*'
    db_users: ['{{internal.db_users}}']
    db_names: ['{{internal.db_names}}']
`

// TestTOTPPerSession: a role with require_mfa: session. Before alice has
// a second factor she reaches nothing (toll says to enroll); once she has
// one, toll db connect without a code says to pass --otp, and with one
// the session opens on a database cert of a minute, audited as any other.
func TestTOTPPerSession(t *testing.T) {
	w := newWorld(t)
	_, controlAddr, pin := w.startLocalControl("")
	w.roleFile("create", "strict", strictRole)
	w.signUpAliceAs(controlAddr, pin, "strict")
	pg := w.alicesPostgres(controlAddr, nil, nil, "")
	agent := w.startAgent(controlAddr, pin, pg.Addr())
	w.run(alicePassword, "toll", "login", "--proxy="+controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	connect := func(otp string) (string, string, error) {
		args := []string{"db", "connect", "pg", "--db-user=alice", "--db-name=alice"}
		if otp != "" {
			args = append(args, "--otp="+otp)
		}
		return w.try("", "toll", append(args, "--", "-X", "-A", "-t", "-c", "select 'per session'")...)
	}
	_, errOut, err := connect("")
	require.Error(t, err)
	require.Contains(t, errOut, "toll mfa add", "no second factor yet: nothing is reachable")

	out := w.run("", "toll", "mfa", "add", "--type=totp")
	m := regexp.MustCompile(`secret=([A-Z2-7]+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	now := time.Now()
	first, err := totp.GenerateCode(m[1], now)
	require.NoError(t, err)
	w.run("", "toll", "mfa", "confirm", first)

	_, errOut, err = connect("")
	require.Error(t, err)
	require.Contains(t, errOut, "pass --otp=CODE")
	next, err := totp.GenerateCode(m[1], now.Add(30*time.Second))
	require.NoError(t, err)
	out, errOut, err = connect(next)
	require.NoError(t, err, errOut)
	require.Equal(t, "per session", strings.TrimSpace(out))
	raw, err := os.ReadFile(filepath.Join(w.home, "db", "pg", "db.crt"))
	require.NoError(t, err)
	block, _ := pem.Decode(raw)
	require.NotNil(t, block)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	id, err := pki.ParseIdentity(leaf)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), id.NotAfter, 2*time.Minute, "the session's cert lasts about a minute")
	require.True(t, id.MFASessionUntil.After(time.Now().Add(time.Hour)), "and opens a session that may last as long as the login")
	requireSessionsAgree(t, w, agent, pg)
}
