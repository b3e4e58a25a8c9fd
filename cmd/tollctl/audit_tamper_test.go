package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/file"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/tamper"
	"github.com/tollgate-db/tollgate/schemas"
)

// tampering is one thing an operator with NATS access does to the audit
// log, and what verify must then say about the agent's chain. The agent
// wrote s1 (seq 1..4, checkpoint 5), s2 (6..9, checkpoint 10) and s3
// (11..14, checkpoint 15).
type tampering struct {
	name string
	edit func(t *testing.T, evs []eventlog.Event) []eventlog.Event
	opts []tamper.Option
	// want matches the problem rows (KIND SOURCE CHAIN SEQ), in order.
	want []string
}

func inSession(s string) func(*eventlog.Event) bool {
	return func(ev *eventlog.Event) bool { return tamper.Session(ev) == s }
}

var tamperings = []tampering{
	{name: "tail cut: the last session removed",
		edit: func(t *testing.T, evs []eventlog.Event) []eventlog.Event { return tamper.Without(evs, inSession("s3")) },
		want: []string{`tail_cut\s+AGENT\s+11\.\.14\s`}},
	{name: "head cut: the first session removed, the stream restarted at seq 1000 as if aged out",
		edit: func(t *testing.T, evs []eventlog.Event) []eventlog.Event { return tamper.Without(evs, inSession("s1")) },
		opts: []tamper.Option{tamper.FirstSeq(1000)},
		want: []string{`head_cut\s+AGENT\s+1\.\.4\s`}},
	{name: "middle: a session removed",
		edit: func(t *testing.T, evs []eventlog.Event) []eventlog.Event { return tamper.Without(evs, inSession("s2")) },
		want: []string{`gap\s+AGENT\s+6\.\.9\s`}},
	{name: "rewritten, hashes recomputed",
		edit: func(t *testing.T, evs []eventlog.Event) []eventlog.Event {
			n := 0
			for i := range evs {
				if evs[i].Type == schemas.TypeQuery && tamper.Session(&evs[i]) == "s2" {
					evs[i].Data = bytes.Replace(evs[i].Data, []byte("DELETE FROM accounts"), []byte("SELECT 'nothing'"), 1)
					n++
				}
			}
			require.Equal(t, 1, n)
			require.NoError(t, tamper.Rechain(evs))
			return evs
		},
		want: []string{`rewritten\s+AGENT\s+6\.\.9\s`, `rewritten\s+AGENT\s+11\.\.14\s`}},
}

// checkTampered asserts that verify failed, naming each problem of tm and
// nothing else.
func checkTampered(t *testing.T, tm tampering, agent, out, errText string, code int) {
	t.Helper()
	require.Equal(t, 1, code, "verify must fail: %s", out)
	require.Contains(t, errText, "audit log tampered with")
	require.Contains(t, out, fmt.Sprintf("FAILED: %d problem(s)", len(tm.want)), out)
	for _, w := range tm.want {
		require.Regexp(t, regexp.MustCompile(strings.ReplaceAll(w, "AGENT", regexp.QuoteMeta(agent))), out)
	}
}

// TestAuditVerifyTampering: an agent (joined, its host cert on the control
// stream) writes three sessions with checkpoints, exported to a file. With
// Tollgate stopped, a plain nats-server on a copy of the store rewrites the
// audit stream four ways — the last session removed, the first removed
// (and the stream restarted at a later sequence, as if aged out), the
// middle one removed, a query rewritten with every hash after it
// recomputed — and `tollctl audit verify` on each copy exits 1 naming the
// agent and the range: tail_cut 11..14, head_cut 1..4, gap 6..9,
// rewritten 6..9. The same four edits of the exported file are found by
// `tollctl audit verify --from-file`; the untouched file and store verify.
func TestAuditVerifyTampering(t *testing.T) {
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	exported := filepath.Join(t.TempDir(), "audit.jsonl")
	n := nodetest.StartConfig(t, nil, func(c *config.Config) {
		c.Export = &export.Config{Sinks: []export.SinkConfig{{Name: "siem", Type: file.Type, Settings: &file.Config{Path: exported}}}}
	})
	agent := n.JoinAgent(t, "db1")
	agent.Session("s1", "alice", "roach", "SELECT balance FROM accounts WHERE id < 10 AND owner <> 'x&y'")
	agent.Session("s2", "alice", "roach", "DELETE FROM accounts")
	agent.Session("s3", "bob", "roach", "SELECT 3")
	agent.Close()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		last, err := n.Env.Log.Audit.LastSeq(ctx)
		return err == nil && lines(t, exported) == int(last)
	}, 30*time.Second, 20*time.Millisecond, "every audit event is in the exported file")
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	out := admin.ok("audit", "verify")
	require.Contains(t, out, "OK: every chain is intact")
	require.Regexp(t, agent.ID+`\s+agent\s+15\s+1\.\.15\s+3/3\s+seq 15\s+ok`, out)
	out = admin.ok("audit", "verify", "--from-file", exported)
	require.Contains(t, out, "Verified file "+exported)
	require.Contains(t, out, "OK: every chain is intact")

	// Store: Tollgate stopped, one copy of the data dir per tampering.
	n.Stop()
	for _, tm := range tamperings {
		t.Run("store/"+tm.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, n.DataDir, dir)
			before, after, err := tamper.RewriteStream(ctx, filepath.Join(dir, "jetstream"), eventlog.AuditStream,
				func(evs []eventlog.Event) []eventlog.Event { return tm.edit(t, evs) }, tm.opts...)
			require.NoError(t, err)
			require.GreaterOrEqual(t, before, after)
			c := nodetest.StartIn(t, dir, nil, nil)
			out, errText, code := cli{t: t, n: c, args: []string{"--data-dir", dir}}.run("", "audit", "verify")
			checkTampered(t, tm, agent.ID, out, errText, code)
		})
	}

	// The exported copy, tampered the same ways, checked against the
	// (untouched) control stream.
	n = nodetest.StartIn(t, n.DataDir, nil, nil)
	admin = cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	out = admin.ok("audit", "verify")
	require.Contains(t, out, "OK: every chain is intact", "a restart keeps it intact")
	require.Regexp(t, `control\s+control\s+\d+\s+1\.\.\d+\s+1/1\s`, out, "control signed its chain at shutdown")
	for _, tm := range tamperings {
		t.Run("file/"+tm.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			writeEvents(t, path, tm.edit(t, readEvents(t, exported)))
			out, errText, code := admin.run("", "audit", "verify", "--from-file", path)
			checkTampered(t, tm, agent.ID, out, errText, code)
			require.Regexp(t, `KIND\s+SOURCE\s+CHAIN SEQ\s+LINE\s+DETAIL`, out)
		})
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return bytes.Count(raw, []byte("\n"))
}

func readEvents(t *testing.T, path string) []eventlog.Event {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var evs []eventlog.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev eventlog.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
		evs = append(evs, ev)
	}
	require.NoError(t, sc.Err())
	return evs
}

func writeEvents(t *testing.T, path string, evs []eventlog.Event) {
	t.Helper()
	var b bytes.Buffer
	for i := range evs {
		raw, err := tamper.Encode(&evs[i])
		require.NoError(t, err)
		b.Write(raw)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o600))
}

// copyDir copies a stopped node's data dir (cp -a keeps the keys' 0600).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	out, err := exec.Command("cp", "-a", from+"/.", to).CombinedOutput()
	require.NoError(t, err, "%s", out)
}
