package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/internal/devprof"
)

type options struct {
	duration time.Duration
	write    string
	connects int
	modes    []string
	external []string // agent modes on an external nats-server
	profile  string   // dir for perf profiles and system call counts
	clients  []int
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tollbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var modes string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each pgbench row")
	fs.StringVar(&o.write, "write", "", "append the dated results table to this file (e.g. BENCHMARKS.md)")
	fs.StringVar(&o.profile, "profile", "", "write perf CPU profiles of the agent, control and nats-server during the agent rows to this dir, "+
		"and count every daemon's system calls per query (needs perf)")
	fs.IntVar(&o.connects, "connects", 50, "connections per target for the new-session latency")
	fs.StringVar(&modes, "modes", "async,strict", "audit modes of the agents on control's embedded NATS (the split rows); async-leaf and strict-leaf: agents that are leaf nodes of it (db_service.audit_leaf); async-tunnel and strict-tunnel: agents reached through their tunnel and toll proxy db, with a row of the plain agent through toll proxy db beside; async-policy and strict-policy: agents whose every query is judged by statement rules (an allowlist of pgbench's statements)")
	pprofDir := fs.String("pprof", "", "write Go CPU and allocation profiles of every tollgate daemon (the agents, control) over its whole run "+
		"to a dir of its own under this dir (go tool pprof <dir>/<daemon>/tollgate-<pid>.cpu.pprof)")
	external := fs.String("external", "strict", "agent audit modes to measure on an external nats-server (none: no such row)")
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
	if *pprofDir != "" {
		// startDaemon gives each daemon a dir of its own under it.
		os.Setenv(devprof.EnvDir, *pprofDir)
	}
	if *external != "none" && *external != "" {
		o.external = strings.Split(*external, ",")
	}
	for _, m := range o.modes {
		if mode, _, _ := agentMode(m); mode != config.AuditAsync && mode != config.AuditStrict {
			fmt.Fprintf(stderr, "tollbench: --modes: %q is none of async, strict and their -leaf, -tunnel and -policy variants\n", m)
			return 2
		}
	}
	for _, m := range o.external {
		if m != config.AuditAsync && m != config.AuditStrict {
			fmt.Fprintf(stderr, "tollbench: --external: %q is neither async nor strict\n", m)
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
	name   string
	env    []string // PG* variables
	probes []probe  // the processes on its path besides pgbench
}

// row is one pgbench run.
type row struct {
	target  string
	clients int
	tps     float64
	latAvg  float64 // ms, pgbench's average
	latP50  float64 // µs, from the per-transaction log (1 client only)
	txns    int64   // transactions pgbench reports
	// usage is what each process on the path spent during the run (by
	// role); machine is all CPUs' busy time over the same span.
	usage   map[string]usage
	machine time.Duration
	// syscalls per role, counted by perf stat (--profile only).
	syscalls map[string]uint64
}

// cpuPerQuery is the CPU µs per query of every process measured.
func (r row) cpuPerQuery() string {
	var sum time.Duration
	for _, u := range r.usage {
		sum += u.cpu
	}
	return perQuery(float64(sum.Microseconds()), r.txns)
}

func bench(ctx context.Context, o options, out io.Writer) error {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return errNoPgbench
	}
	if _, err := exec.LookPath("pgbouncer"); err != nil {
		return errNoPgbouncer
	}
	dir, err := os.MkdirTemp("", "tollbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(out, "building tollgate, tollctl, toll; starting control (embedded NATS) and agents (%s), PostgreSQL, pgbouncer",
		strings.Join(o.modes, ", "))
	if len(o.external) > 0 {
		fmt.Fprintf(out, "; nats-server, a control and agents (%s) on it", strings.Join(o.external, ", "))
	}
	fmt.Fprintln(out, "…")
	topo, err := startTopology(ctx, dir, o)
	defer topo.close()
	if err != nil {
		return err
	}
	targets, err := topo.targets(ctx, o)
	if err != nil {
		return err
	}
	rows, conn, err := measure(ctx, dir, topo, targets, o, out)
	if err != nil {
		return err
	}
	table := render(rows, conn, targets, o)
	fmt.Fprint(out, "\n"+table)
	if o.write != "" {
		return writeTable(o.write, table)
	}
	return nil
}

// measure warms every target up, runs pgbench per client count and
// target, then times new sessions.
func measure(ctx context.Context, dir string, topo *topology, targets []target, o options, out io.Writer) ([]row, map[string]float64, error) {
	pr := newProcReader(ctx)
	// Warm up (PostgreSQL's caches, the agents' db_client certs) after a
	// checkpoint, so the first row does not pay for pgbench -i.
	if err := topo.pg.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return nil, nil, err
	}
	for _, t := range targets {
		if _, err := pgbench(ctx, dir, t, 2, 2*time.Second, pr); err != nil {
			return nil, nil, fmt.Errorf("warm-up %s: %w", t.name, err)
		}
	}
	prof, err := newProfiler(o.profile, out)
	if err != nil {
		return nil, nil, err
	}
	var rows []row
	for _, clients := range o.clients {
		for _, t := range targets {
			run, err := prof.start(ctx, t, clients)
			if err != nil {
				return nil, nil, err
			}
			r, err := pgbench(ctx, dir, t, clients, o.duration, pr)
			calls, perr := run.stop(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("pgbench %s -c %d: %w", t.name, clients, err)
			}
			if perr != nil {
				return nil, nil, perr
			}
			r.syscalls = calls
			fmt.Fprintf(out, "  %-26s c%d  %8.0f tps  avg %.3f ms  CPU %s µs/query\n", t.name, clients, r.tps, r.latAvg, r.cpuPerQuery())
			rows = append(rows, r)
		}
	}
	conn := map[string]float64{}
	for _, t := range targets {
		p50, err := connectP50(ctx, t, o.connects)
		if err != nil {
			return nil, nil, fmt.Errorf("new sessions %s: %w", t.name, err)
		}
		conn[t.name] = p50
	}
	return rows, conn, nil
}
