package main

import (
	"fmt"
	"strings"
	"time"
)

// renderCPU writes CPU µs per query of each process on each row's path,
// their sum, and the machine's busy time per query.
func renderCPU(b *strings.Builder, rows []row) {
	cols := columns(rows, func(r row, role string) bool { _, ok := r.usage[role]; return ok })
	b.WriteString("\nCPU per query (µs): utime+stime from /proc/PID/stat over each pgbench run ÷ the transactions it reports.\n\n")
	header(b, append(append([]string{"target", "clients"}, cols...), "sum", "machine"))
	for _, r := range rows {
		cells := []string{r.target, fmt.Sprint(r.clients)}
		var sum time.Duration
		for _, c := range cols {
			u, ok := r.usage[c]
			if !ok {
				cells = append(cells, "—")
				continue
			}
			sum += u.cpu
			cells = append(cells, perQuery(float64(u.cpu.Microseconds()), r.txns))
		}
		cells = append(cells, perQuery(float64(sum.Microseconds()), r.txns), perQuery(float64(r.machine.Microseconds()), r.txns))
		line(b, cells)
	}
	b.WriteString("\n" + roleNotes + "\n")
}

// roleNotes says what each column of the per-process tables counts.
const roleNotes = "agent: `tollgate start --config` (an agent of its own, joined with a token). control: `tollgate start`, " +
	"control with its embedded NATS JetStream (in rows on nats-server, control alone). PostgreSQL: the postmaster and " +
	"every process under it, backends that ended during the run included. copy relay: tollbench's own process. " +
	"machine: every CPU's busy time (/proc/stat), other load on the machine included."

// renderSwitches writes context switches per query (voluntary and
// involuntary, summed over each process's threads) of the processes
// that have them measured.
func renderSwitches(b *strings.Builder, rows []row) {
	cols := columns(rows, func(r row, role string) bool { return r.usage[role].switches })
	if len(cols) == 0 {
		return
	}
	b.WriteString("\nContext switches per query, voluntary / involuntary (/proc/PID/task/*/status; pgbench: its rusage).\n\n")
	header(b, append([]string{"target", "clients"}, cols...))
	for _, r := range rows {
		cells := []string{r.target, fmt.Sprint(r.clients)}
		for _, c := range cols {
			u, ok := r.usage[c]
			if !ok || !u.switches {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, perQuery(float64(u.vol), r.txns)+" / "+perQuery(float64(u.invol), r.txns))
		}
		line(b, cells)
	}
}

// renderSyscalls writes system calls per query of each daemon perf
// counted (--profile).
func renderSyscalls(b *strings.Builder, rows []row) {
	cols := columns(rows, func(r row, role string) bool { _, ok := r.syscalls[role]; return ok })
	if len(cols) == 0 {
		return
	}
	b.WriteString("\nSystem calls per query (perf stat -e raw_syscalls:sys_enter, from just before to just after each run; perf was attached, so the other tables of this run read higher than without --profile).\n\n")
	header(b, append([]string{"target", "clients"}, cols...))
	for _, r := range rows {
		if len(r.syscalls) == 0 {
			continue // a row with no daemon (direct)
		}
		cells := []string{r.target, fmt.Sprint(r.clients)}
		for _, c := range cols {
			n, ok := r.syscalls[c]
			if !ok {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, perQuery(float64(n), r.txns))
		}
		line(b, cells)
	}
}

// columns are the roles, in table order, that has holds for in some
// row.
func columns(rows []row, has func(r row, role string) bool) []string {
	var cols []string
	for _, role := range roles {
		for _, r := range rows {
			if has(r, role) {
				cols = append(cols, role)
				break
			}
		}
	}
	return cols
}

func perQuery(v float64, txns int64) string {
	if txns <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", v/float64(txns))
}

func header(b *strings.Builder, cols []string) {
	line(b, cols)
	b.WriteString("|" + strings.Repeat("---|", len(cols)) + "\n")
}

func line(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}
