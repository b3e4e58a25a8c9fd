package e2e

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

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
	seal := filepath.Join(w.dir, "seal.key")
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(seal, key, 0o600))
	addrA, addrB := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	dataB := filepath.Join(w.dir, "control-b")
	conf := func(name, dataDir, addr string) string {
		out, err := yaml.Marshal(map[string]any{
			"data_dir": dataDir, "cluster_name": "e2e",
			"nats": map[string]any{"url": c.URL(), "replicas": 3},
			"control": map[string]any{"listen_addr": addr, "metrics_addr": "none",
				"keystore": "nats", "seal_key_file": seal},
		})
		require.NoError(t, err)
		p := filepath.Join(w.dir, name+".yaml")
		require.NoError(t, os.WriteFile(p, out, 0o600))
		return p
	}
	a := w.start("tollgate", "start", "--config", conf("a", w.dataDir, addrA), "--log-format", "text")
	var status string
	eventually(t, "control a answers", a, func() bool {
		out, _, err := w.try("", "tollctl", "status")
		status = out
		return err == nil
	})
	pin := pinRE.FindString(status)
	require.NotEmpty(t, pin, status)
	b := w.start("tollgate", "start", "--config", conf("b", dataB, addrB), "--log-format", "text")
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
