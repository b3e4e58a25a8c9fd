package gateway_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// The memory bound of an agent, measured on an agent process of its own:
// the test runs itself again as the agent (memChildEnv set), drives the
// inputs of issue 9 at it, and reads the child's peak RSS (VmHWM) from
// /proc. Memory, not time, is asserted.
const memChildEnv = "TOLLGATE_MEMTEST_CHILD"

type memChildInfo struct {
	Conn string `json:"conn"`
}

func TestAgentMemoryIsBounded(t *testing.T) {
	if info := os.Getenv(memChildEnv); info != "" {
		runMemChild(t, info)
		return
	}
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "info.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestAgentMemoryIsBounded$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), memChildEnv+"="+infoPath)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var childOut strings.Builder
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	require.NoError(t, cmd.Start())
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	var info memChildInfo
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(infoPath)
		return err == nil && json.Unmarshal(b, &info) == nil && info.Conn != ""
	}, 3*time.Minute, 100*time.Millisecond, "the agent process did not start: %s", &childOut)
	pid := cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Warm up: one session, so that the baseline has every code path loaded.
	c, err := pgconn.Connect(ctx, info.Conn)
	require.NoError(t, err)
	_, err = c.Exec(ctx, "select 1").ReadAll()
	require.NoError(t, err)
	require.NoError(t, c.Close(ctx))
	base := procKB(t, pid, "VmRSS")

	// 1. 100,000 pipelined Parse messages (1.6 MB), then Sync.
	c, err = pgconn.Connect(ctx, info.Conn)
	require.NoError(t, err)
	var buf []byte
	for i := range 100_000 {
		buf = appendParse(buf, "s"+strconv.Itoa(i), "select 1")
	}
	buf = append(buf, 'S', 0, 0, 0, 4)
	go func() { _, _ = c.Conn().Write(buf) }()
	readUntilReady(t, c)
	require.NoError(t, c.Close(ctx))
	afterParses := procKB(t, pid, "VmHWM")
	t.Logf("baseline RSS %d MB, peak after 100k pipelined Parse %d MB", base>>10, afterParses>>10)

	// 2. Three concurrent 60 MB queries.
	big := "select length('" + strings.Repeat("x", 60<<20) + "')"
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgconn.Connect(ctx, info.Conn)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close(ctx)
			res, err := c.Exec(ctx, big).ReadAll()
			if err == nil && (len(res) != 1 || len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != strconv.Itoa(60<<20)) {
				err = fmt.Errorf("unexpected result %v", res)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	peak := procKB(t, pid, "VmHWM")
	t.Logf("peak RSS after three concurrent 60 MB queries %d MB (before the fix: 852 MB)", peak>>10)

	require.Less(t, afterParses-base, int64(80<<10), "100k pipelined Parse grew the agent by %d MB", (afterParses-base)>>10)
	require.Less(t, peak-base, int64(320<<10), "three 60 MB queries grew the agent by %d MB", (peak-base)>>10)
}

// runMemChild is the agent process: a whole harness, its connection string
// written to infoPath, serving until its stdin closes.
func runMemChild(t *testing.T, infoPath string) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	b, err := json.Marshal(memChildInfo{Conn: h.connString(alice, "alice", "postgres")})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(infoPath+".tmp", b, 0o600))
	require.NoError(t, os.Rename(infoPath+".tmp", infoPath))
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // until the parent closes stdin
}

// procKB reads a "Vm…: N kB" line of /proc/pid/status.
func procKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func appendParse(b []byte, name, query string) []byte {
	n := 4 + len(name) + 1 + len(query) + 1 + 2
	b = append(b, 'P')
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, name...)
	b = append(b, 0)
	b = append(b, query...)
	b = append(b, 0, 0, 0)
	return b
}

// readUntilReady reads raw messages from c until a ReadyForQuery.
func readUntilReady(t *testing.T, c *pgconn.PgConn) {
	t.Helper()
	_ = c.Conn().SetReadDeadline(time.Now().Add(3 * time.Minute))
	br := bufio.NewReaderSize(c.Conn(), 64<<10)
	hdr := make([]byte, 5)
	for {
		_, err := io.ReadFull(br, hdr)
		require.NoError(t, err)
		body := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
		_, err = io.ReadFull(br, body)
		require.NoError(t, err)
		if hdr[0] == 'Z' {
			return
		}
	}
}
