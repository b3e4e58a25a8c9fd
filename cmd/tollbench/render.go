package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

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

// render is the results: the throughput and latency table with the
// ratios to direct, then CPU and context switches per query per process.
func render(rows []row, conn map[string]float64, targets []target, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s — %d cores (%s), %s per row, shared by pgbench, PostgreSQL, agents, control and NATS\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuName(), o.duration)
	b.WriteString("| target | tps c1 | p50 c1 (µs) | added p50 (µs) | tps c8 (-j 2) | avg lat c8 (ms) | c8 vs direct | new session p50 (ms) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	d1, ok1 := find(rows, "direct", 1)
	d8, ok8 := find(rows, "direct", 8)
	for _, t := range targets {
		r1, has1 := find(rows, t.name, 1)
		r8, has8 := find(rows, t.name, 8)
		added, ratio := "—", "—"
		if t.name == "direct" && has8 {
			ratio = "1.00×"
		}
		if t.name != "direct" && has1 && ok1 {
			added = fmt.Sprintf("%+.0f", r1.latP50-d1.latP50)
		}
		if t.name != "direct" && has8 && ok8 {
			ratio = fmt.Sprintf("%.2f×", r8.tps/d8.tps)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s | %.0f | %.3f | %s | %.1f |\n",
			t.name, r1.tps, r1.latP50, added, r8.tps, r8.latAvg, ratio, conn[t.name])
	}
	b.WriteString("\nTargets (DESIGN §9): c8 ≥ 0.8× direct in async, ≥ 0.7× in strict; added p50 at c1 < 60 µs; new session p50 ≤ 10 ms.\n")
	renderCPU(&b, rows)
	renderSwitches(&b, rows)
	renderSyscalls(&b, rows)
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
			"`go run ./cmd/tollbench --write FILE`: control (embedded NATS JetStream) and each agent as their own\n" +
			"processes, PostgreSQL 15 with TLS and cert auth, `pgbench -S -n` (scale 10) directly, through a Go copy\n" +
			"relay, pgbouncer and each agent; CPU µs and context switches per query of each process from /proc.\n" +
			"See cmd/tollbench and the repository's BENCHMARKS.md for what each number counts.\n\n" +
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
