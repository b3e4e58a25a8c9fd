package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// The processes a row is measured in, in the order of the tables'
// columns.
const (
	roleAgent     = "agent"
	roleControl   = "control"
	roleNATS      = "nats-server"
	rolePgbouncer = "pgbouncer"
	roleRelay     = "copy relay"
	rolePostgres  = "PostgreSQL"
	rolePgbench   = "pgbench"
	roleToll      = "toll proxy"
)

var roles = []string{roleAgent, roleControl, roleNATS, rolePgbouncer, roleRelay, roleToll, rolePostgres, rolePgbench}

// probe is a process on a row's path, measured over each of its runs.
// pgbench is measured from its own rusage and needs no probe.
type probe struct {
	role string
	pid  int
	tree bool // the process and every descendant (PostgreSQL)
}

// usage is what one process spent over a pgbench run.
type usage = procTimes

// sampler holds the probes' counters from before a run.
type sampler struct {
	r       procReader
	probes  []probe
	before  map[string]procTimes
	machine time.Duration
}

func (r procReader) read(p probe) (procTimes, error) {
	if p.tree {
		return r.tree(p.pid)
	}
	return r.process(p.pid)
}

// start reads every probe (and the machine's busy time) before a run.
func (r procReader) start(probes []probe) (*sampler, error) {
	s := &sampler{r: r, probes: probes, before: map[string]procTimes{}}
	for _, p := range probes {
		t, err := r.read(p)
		if err != nil {
			return nil, fmt.Errorf("read %s (PID %d): %w", p.role, p.pid, err)
		}
		s.before[p.role] = t
	}
	var err error
	s.machine, err = r.machineBusy()
	return s, err
}

// stop reads every probe again and returns what each spent since start,
// with the machine's busy time over the same span.
func (s *sampler) stop() (map[string]usage, time.Duration, error) {
	machine, err := s.r.machineBusy()
	if err != nil {
		return nil, 0, err
	}
	out := map[string]usage{}
	for _, p := range s.probes {
		t, err := s.r.read(p)
		if err != nil {
			return nil, 0, fmt.Errorf("read %s (PID %d): %w", p.role, p.pid, err)
		}
		b := s.before[p.role]
		out[p.role] = usage{cpu: t.cpu - b.cpu, vol: t.vol - b.vol, invol: t.invol - b.invol, switches: t.switches}
	}
	return out, machine - s.machine, nil
}

// exitedUsage is what a child that has exited spent (its rusage: every
// thread, exact to the microsecond).
func exitedUsage(ps *os.ProcessState) usage {
	u := usage{cpu: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.vol, u.invol, u.switches = uint64(ru.Nvcsw), uint64(ru.Nivcsw), true
	}
	return u
}
