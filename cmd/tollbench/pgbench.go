package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgbench runs `pgbench -S` against t, reading the CPU time of t's
// processes before and after. At 1 client it also logs each transaction
// to take the median latency.
func pgbench(ctx context.Context, dir string, t target, clients int, d time.Duration, pr procReader) (row, error) {
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
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	s, err := pr.start(t.probes)
	if err != nil {
		return row{}, err
	}
	if err := cmd.Run(); err != nil {
		return row{}, fmt.Errorf("%w: %s", err, out.Bytes())
	}
	used, machine, err := s.stop()
	if err != nil {
		return row{}, err
	}
	used[rolePgbench] = exitedUsage(cmd.ProcessState)
	r, err := parsePgbench(out.Bytes())
	if err != nil {
		return row{}, err
	}
	r.target, r.clients, r.usage, r.machine = t.name, clients, used, machine
	if clients == 1 {
		files, _ := filepath.Glob(prefix + ".*")
		r.latP50 = logP50(files)
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
	return r, nil
}

// parsePgbench reads tps, the average latency and the transactions from
// pgbench's report.
func parsePgbench(b []byte) (row, error) {
	var r row
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "tps = ") && len(f) > 2:
			r.tps, _ = strconv.ParseFloat(f[2], 64)
		case strings.HasPrefix(line, "latency average = ") && len(f) > 3:
			r.latAvg, _ = strconv.ParseFloat(f[3], 64)
		case strings.HasPrefix(line, "number of transactions actually processed: ") && len(f) > 5:
			done, _, _ := strings.Cut(f[5], "/")
			r.txns, _ = strconv.ParseInt(done, 10, 64)
		}
	}
	if r.tps == 0 || r.txns == 0 {
		return row{}, fmt.Errorf("no tps or transactions in pgbench output: %s", b)
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
	mode := env["PGSSLMODE"]
	if mode == "" {
		mode = "verify-full"
	}
	dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=%s sslrootcert=%s",
		env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"], mode, env["PGSSLROOTCERT"])
	if env["PGSSLMODE"] == "disable" { // a local proxy: TLS is its own, behind it
		dsn = fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable", env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"])
	}
	if env["PGSSLCERT"] != "" {
		dsn += " sslcert=" + env["PGSSLCERT"] + " sslkey=" + env["PGSSLKEY"]
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return 0, err
	}
	if addr := env["PGHOSTADDR"]; addr != "" { // pgx has no hostaddr: the host (SNI) resolves to it
		cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{addr}, nil }
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
