package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-db/tollgate/agent/config"
)

type options struct {
	duration   time.Duration
	write      string
	cpuProfile string
	connects   int
	modes      []string
	clients    []int
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tollbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var modes string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each pgbench row")
	fs.StringVar(&o.write, "write", "", "append the dated results table to this file (e.g. BENCHMARKS.md)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (agents, control, NATS) during the agent rows")
	fs.IntVar(&o.connects, "connects", 50, "connections per target for the new-session latency")
	fs.StringVar(&modes, "modes", "async,strict", "agent audit modes to measure")
	clients := fs.String("clients", "1,8", "pgbench client counts to run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.modes = strings.Split(modes, ",")
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "tollbench: --clients: %q is not a client count\n", c)
			return 2
		}
		o.clients = append(o.clients, n)
	}
	for _, m := range o.modes {
		if m != config.AuditAsync && m != config.AuditStrict {
			fmt.Fprintf(stderr, "tollbench: --modes: %q is neither async nor strict\n", m)
			return 2
		}
	}
	if err := bench(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "tollbench: %v\n", err)
		return 1
	}
	return 0
}

// target is one way of reaching PostgreSQL.
type target struct {
	name string
	env  []string // PG* variables
}

// row is one pgbench run.
type row struct {
	target  string
	clients int
	tps     float64
	latAvg  float64 // ms, pgbench's average
	latP50  float64 // µs, from the per-transaction log (1 client only)
}

func bench(ctx context.Context, o options, out io.Writer) error {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return errors.New("pgbench not found: apt-get install -y postgresql (pgbench comes with the server package)")
	}
	if _, err := exec.LookPath("pgbouncer"); err != nil {
		return errNoPgbouncer
	}
	dir, err := os.MkdirTemp("", "tollbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(out, "starting PostgreSQL, embedded JetStream, control and agents (%s)…\n", strings.Join(o.modes, ", "))
	c, err := startCluster(ctx, dir, o.modes)
	defer c.close()
	if err != nil {
		return err
	}
	if err := pgbenchInit(ctx, c); err != nil {
		return err
	}
	targets := []target{{name: "direct", env: []string{"PGHOST=127.0.0.1", "PGPORT=" + strconv.Itoa(c.pg.Port()),
		"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + c.dbCA, "PGSSLCERT=" + c.directCert, "PGSSLKEY=" + c.dirKey}}}
	upTLS, err := directTLS(c)
	if err != nil {
		return err
	}
	cr, err := startCopyRelay(ctx, dir, c.pg.Addr(), upTLS)
	if err != nil {
		return err
	}
	targets = append(targets, target{name: "Go copy relay", env: []string{"PGHOST=127.0.0.1", "PGPORT=" + cr.port(),
		"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + cr.caFile}})
	pb, err := startPgbouncer(ctx, c, cr)
	if err != nil {
		return err
	}
	defer pb.stop()
	targets = append(targets, target{name: "pgbouncer", env: []string{"PGHOST=127.0.0.1", "PGPORT=" + strconv.Itoa(pb.port),
		"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + pb.caFile}})
	for _, m := range o.modes {
		cert, key, err := c.routeCert(ctx, "pg-"+m)
		if err != nil {
			return err
		}
		targets = append(targets, target{name: "agent " + m, env: []string{"PGHOST=127.0.0.1", "PGPORT=" + c.agents[m].port(),
			"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + c.hostCA, "PGSSLCERT=" + cert, "PGSSLKEY=" + key}})
	}
	for i := range targets {
		targets[i].env = append(targets[i].env, "PGUSER="+benchUser, "PGDATABASE=postgres", "PGCONNECT_TIMEOUT=20")
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Warm up (PostgreSQL's caches, the agents' db_client certs) after a
	// checkpoint, so the first row does not pay for pgbench -i.
	if err := c.pg.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return err
	}
	for _, t := range targets {
		if _, err := pgbench(ctx, dir, t, 2, 2*time.Second); err != nil {
			return fmt.Errorf("warm-up %s: %w", t.name, err)
		}
	}
	var rows []row
	for _, clients := range o.clients {
		for _, t := range targets {
			r, err := pgbench(ctx, dir, t, clients, o.duration)
			if err != nil {
				return fmt.Errorf("pgbench %s -c %d: %w", t.name, clients, err)
			}
			fmt.Fprintf(out, "  %-14s c%d  %8.0f tps  avg %.3f ms\n", t.name, clients, r.tps, r.latAvg)
			rows = append(rows, r)
		}
	}
	conn := map[string]float64{}
	for _, t := range targets {
		p50, err := connectP50(ctx, t, o.connects)
		if err != nil {
			return fmt.Errorf("new sessions %s: %w", t.name, err)
		}
		conn[t.name] = p50
	}
	table := render(rows, conn, targets, o)
	fmt.Fprint(out, "\n"+table)
	if o.write != "" {
		return writeTable(o.write, table)
	}
	return nil
}

func pgbenchInit(ctx context.Context, c *cluster) error {
	cmd := exec.CommandContext(ctx, "pgbench", "-i", "-s", "10", "-q", "-h", c.pg.SocketDir(), "-p", strconv.Itoa(c.pg.Port()),
		"-U", "postgres", "postgres")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %w: %s", err, b)
	}
	return c.pg.ExecContext(ctx, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+benchUser)
}

// pgbench runs `pgbench -S` against t. At 1 client it also logs each
// transaction to take the median latency.
func pgbench(ctx context.Context, dir string, t target, clients int, d time.Duration) (row, error) {
	args := []string{"-S", "-n", "-T", strconv.Itoa(int(d.Seconds())), "-c", strconv.Itoa(clients)}
	if clients > 1 {
		args = append(args, "-j", "2")
	}
	prefix := filepath.Join(dir, "txlog-"+strings.ReplaceAll(t.name, " ", "-"))
	if clients == 1 {
		args = append(args, "-l", "--log-prefix", prefix)
	}
	cmd := exec.CommandContext(ctx, "pgbench", args...)
	cmd.Env = append(os.Environ(), t.env...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return row{}, fmt.Errorf("%w: %s", err, b)
	}
	r := row{target: t.name, clients: clients}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "tps = "):
			r.tps, _ = strconv.ParseFloat(strings.Fields(line)[2], 64)
		case strings.HasPrefix(line, "latency average = "):
			r.latAvg, _ = strconv.ParseFloat(strings.Fields(line)[3], 64)
		}
	}
	if r.tps == 0 {
		return row{}, fmt.Errorf("no tps in pgbench output: %s", b)
	}
	if clients == 1 {
		files, _ := filepath.Glob(prefix + ".*")
		r.latP50 = logP50(files)
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
	return r, nil
}

// logP50 reads pgbench transaction logs (latency in µs, third field).
func logP50(files []string) float64 {
	var lat []float64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := bytes.Fields(sc.Bytes())
			if len(fs) < 3 {
				continue
			}
			if v, err := strconv.ParseFloat(string(fs[2]), 64); err == nil {
				lat = append(lat, v)
			}
		}
		f.Close()
	}
	return median(lat)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// connectP50 opens n sessions one after another (TLS, startup, auth, and
// through an agent its RBAC and db_client cert) and returns the median
// time to a ready session, in ms.
func connectP50(ctx context.Context, t target, n int) (float64, error) {
	env := map[string]string{}
	for _, kv := range t.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=verify-full sslrootcert=%s",
		env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"], env["PGSSLROOTCERT"])
	if env["PGSSLCERT"] != "" {
		dsn += " sslcert=" + env["PGSSLCERT"] + " sslkey=" + env["PGSSLKEY"]
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return 0, err
	}
	var ds []float64
	for range n {
		start := time.Now()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return 0, err
		}
		ds = append(ds, float64(time.Since(start).Microseconds())/1000)
		_ = conn.Close(ctx)
	}
	return median(ds), nil
}

func find(rows []row, target string, clients int) (row, bool) {
	for _, r := range rows {
		if r.target == target && r.clients == clients {
			return r, true
		}
	}
	return row{}, false
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					return strings.TrimSpace(v)
				}
			}
		}
	}
	return runtime.GOARCH
}

// render is the results as a Markdown table with the ratios to direct.
func render(rows []row, conn map[string]float64, targets []target, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s — %d cores (%s), %s per row, shared by pgbench, PostgreSQL, agents and NATS\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuName(), o.duration)
	b.WriteString("| target | tps c1 | p50 c1 (µs) | added p50 (µs) | tps c8 (-j 2) | avg lat c8 (ms) | c8 vs direct | new session p50 (ms) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	d1, _ := find(rows, "direct", 1)
	d8, _ := find(rows, "direct", 8)
	for _, t := range targets {
		r1, _ := find(rows, t.name, 1)
		r8, _ := find(rows, t.name, 8)
		added, ratio := "—", "1.00×"
		if t.name != "direct" {
			added = fmt.Sprintf("%+.0f", r1.latP50-d1.latP50)
			ratio = fmt.Sprintf("%.2f×", r8.tps/d8.tps)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s | %.0f | %.3f | %s | %.1f |\n",
			t.name, r1.tps, r1.latP50, added, r8.tps, r8.latAvg, ratio, conn[t.name])
	}
	b.WriteString("\nTargets (DESIGN §9): c8 ≥ 0.8× direct in async, ≥ 0.7× in strict; added p50 at c1 < 60 µs; new session p50 ≤ 10 ms.\n")
	return b.String()
}

const sectionTitle = "## Gateway vs direct (pgbench)"

// writeTable appends table under the pgbench section of path (the section
// is added at the end when missing).
func writeTable(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i := strings.Index(s, sectionTitle)
	if i < 0 {
		s = strings.TrimRight(s, "\n") + "\n\n" + sectionTitle + "\n\n" +
			"`go run ./cmd/tollbench --write BENCHMARKS.md` (`just bench`): PostgreSQL 15 with TLS and cert auth, one\n" +
			"process running embedded NATS JetStream, control and two agents (strict, async); `pgbench -S -n` (scale 10)\n" +
			"directly over TLS (`sslmode=verify-full`, a db_client cert) and through each agent (a user route cert).\n" +
			"p50 at 1 client is from pgbench's per-transaction log; new session p50 is pgx connects one after another.\n\n" +
			table
		return os.WriteFile(path, []byte(s), 0o644)
	}
	// Insert before the next section.
	rest := s[i+len(sectionTitle):]
	end := len(s)
	if j := strings.Index(rest, "\n## "); j >= 0 {
		end = i + len(sectionTitle) + j + 1
	}
	s = strings.TrimRight(s[:end], "\n") + "\n\n" + table + "\n" + s[end:]
	return os.WriteFile(path, []byte(strings.TrimRight(s, "\n")+"\n"), 0o644)
}
