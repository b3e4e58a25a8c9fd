package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// TestTOTPAtLogin: alice enrolls an authenticator app with toll mfa add
// (no terminal: it prints the key and says how to confirm) and toll mfa
// confirm; from then on toll login needs a code: without one it says to
// pass --otp, a wrong one and a used one fail, a fresh one logs her in.
// The admin's tollctl users reset-mfa removes it (a lost device); every
// step is in the log and the secret is not.
func TestTOTPAtLogin(t *testing.T) {
	w := newWorld(t)
	controlAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	w.controlAddr = controlAddr
	ctlCfg := w.writeConfig("control.yaml", map[string]any{
		"data_dir": w.dataDir, "cluster_name": "e2e",
		"control": map[string]any{"listen_addr": controlAddr, "metrics_addr": "none"},
		"nats":    map[string]any{"listen_addr": "none"},
	})
	control := w.start("tollgate", "start", "--config", ctlCfg, "--log-format", "text")
	pin := w.waitControl(control)
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
