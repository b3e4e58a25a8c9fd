package e2e

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/natstest"
)

// TestMain removes the nats-server natstest built, if a test did.
func TestMain(m *testing.M) { natstest.Main(m) }

// TestKilledControlLeavesTheOtherServing: two `tollgate start` controls on a
// three-node NATS cluster with the shared, sealed NATS keystore; `tollctl`
// and `toll login`, given both addresses, loop over reads, writes and
// logins; halfway the control they talk to is killed (SIGKILL, no
// shutdown). Every command succeeds, and `tollctl audit verify` on the
// survivor finds control's audit chain intact.
func TestKilledControlLeavesTheOtherServing(t *testing.T) {
	w := newWorld(t)
	c := natstest.Start(t, natstest.Options{Nodes: 3})
	confA, confB, addrA, addrB := w.twoControls(c)
	a := w.start("tollgate", "start", "--config", confA, "--log-format", "text")
	var status string
	eventually(t, "control a answers", a, func() bool {
		out, _, err := w.try("", "tollctl", "status")
		status = out
		return err == nil
	})
	pin := pinRE.FindString(status)
	require.NotEmpty(t, pin, status)
	b := w.start("tollgate", "start", "--config", confB, "--log-format", "text")
	eventually(t, "control b answers", b, func() bool {
		_, _, err := w.try("", "tollctl", "--proxy="+addrB, "status")
		return err == nil
	})

	both := "--proxy=" + addrA + "," + addrB
	out := w.run("", "tollctl", both, "users", "add", "--roles=access", `--db-users=*`, `--db-names=*`, "alice")
	invite := regexp.MustCompile(`--invite[= ](\S+)`).FindStringSubmatch(out)
	require.Len(t, invite, 2, out)
	const pw = "correct horse battery staple\n"
	w.run(pw, "toll", "signup", both, "--invite="+invite[1], "--password-stdin", "--ca-pin="+pin)

	const rounds = 8
	for i := range rounds {
		if i == rounds/2 {
			require.NoError(t, a.cmd.Process.Kill())
			<-a.done
		}
		w.run("", "tollctl", both, "tokens", "add", "--type=db", "--format=text")
		w.run("", "tollctl", both, "users", "ls")
		out := w.run(pw, "toll", "login", both, "--user=alice", "--password-stdin")
		require.Contains(t, out, "Logged in as alice", "round %d", i)
	}
	require.True(t, a.exited())
	out = w.run("", "tollctl", both, "audit", "verify")
	require.Contains(t, out, "OK", out)
}
