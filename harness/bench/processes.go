package bench

import (
	"context"
	"os"

	"github.com/prometheus/procfs"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

// The host's CPU by process, so a cost per operation can be split into
// what PostgreSQL, each broker and cqrsbench itself (the load generator,
// the architecture's client side and its in-process relays and
// projectors) spent. Only processes on this host are seen: a team's own
// services count as nothing here.

// Process classes of processCPU, in table order.
const (
	procPostgreSQL = "PostgreSQL"
	procKafka      = "Kafka"
	procRabbitMQ   = "RabbitMQ"
	procCqrsbench  = "cqrsbench"
)

// processClasses returns the classes in table order.
func processClasses() []string {
	return []string{procPostgreSQL, procKafka, procRabbitMQ, procCqrsbench}
}

// serviceClass is the process class of a service role, "" for a role
// whose processes are not told apart.
func serviceClass(role string) string {
	switch role {
	case services.RolePostgres:
		return procPostgreSQL
	case services.RoleKafka:
		return procKafka
	case services.RoleRabbitMQ:
		return procRabbitMQ
	}
	return ""
}

// serviceRoots maps the host PIDs of the main processes of the services
// inf runs to their classes (see infra.Infra.HostProcesses).
func serviceRoots(ctx context.Context, inf infra.Infra) map[int]string {
	roots := map[int]string{}
	for role, pids := range inf.HostProcesses(ctx) {
		if class := serviceClass(role); class != "" {
			for _, pid := range pids {
				roots[pid] = class
			}
		}
	}
	return roots
}

// processClassByName names the class of a process by its command name,
// "" for any other: how the host's processes are split when the provider
// does not say which are its services (a team's servers on this host).
func processClassByName(comm string, pid, self int) string {
	switch {
	case pid == self:
		return procCqrsbench
	case comm == "postgres":
		return procPostgreSQL
	case comm == "java":
		return procKafka // the only JVM the providers start
	case comm == "beam.smp" || comm == "erl_child_setup" || comm == "epmd" || comm == "inet_gethost":
		return procRabbitMQ
	}
	return ""
}

// processClassInTree names the class of pid by its nearest ancestor (or
// itself) that is a service's root process or cqrsbench, "" when it has
// neither: a server of the same kind that another program started (a
// test package's own cluster in CI) is the host's "other" work, not the
// run's.
func processClassInTree(pid int, parent map[int]int, roots map[int]string, self int) string {
	for hops := 0; pid > 1 && hops < len(parent); hops++ {
		if class, ok := roots[pid]; ok {
			return class
		}
		if pid == self {
			return procCqrsbench
		}
		pid = parent[pid]
	}
	return ""
}

// procKey identifies a process over its life: a PID and its start time,
// since PIDs are reused.
type procKey struct {
	pid   int
	start uint64
}

// procSample is a process's class, its parent and the CPU seconds (user
// and system) it used since it started, with those of the children it has
// reaped (a server's short-lived workers: a connection's backend,
// PostgreSQL's parallel and autovacuum workers), except for cqrsbench
// itself, whose children are the servers, counted as theirs.
type procSample struct {
	class string
	ppid  int
	cpu   float64
}

// clockTicks is the kernel's USER_HZ, the unit of the children's times
// in /proc/<pid>/stat: 100 on Linux (procfs assumes it too).
const clockTicks = 100

// processCPU reads every live process of a class: with roots (service
// main processes by PID), the run's own process trees; without, every
// process of a service's name.
func processCPU(roots map[int]string) (map[procKey]procSample, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return nil, err
	}
	stats := make([]procfs.ProcStat, 0, len(procs))
	parent := make(map[int]int, len(procs))
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue // ended while listed
		}
		stats = append(stats, st)
		parent[st.PID] = st.PPID
	}
	self := os.Getpid()
	out := map[procKey]procSample{}
	for _, st := range stats {
		class := processClassInTree(st.PID, parent, roots, self)
		if len(roots) == 0 {
			class = processClassByName(st.Comm, st.PID, self)
		}
		if class == "" {
			continue
		}
		cpu := st.CPUTime()
		if st.PID != self {
			cpu += float64(st.CUTime+st.CSTime) / clockTicks
		}
		out[procKey{st.PID, st.Starttime}] = procSample{class, st.PPID, cpu}
	}
	return out, nil
}

// processCPUDelta is each class's CPU between two readings: a process in
// both counts its growth, one started since counts all its time. One that
// ended since was reaped by its parent, whose children's time grew by its
// whole life: when the parent is counted, the ended process's time before
// the first reading comes off again; otherwise it counts nothing (its last
// moments are lost, and nothing goes negative when another test's server
// stops).
func processCPUDelta(from, to map[procKey]procSample) map[string]float64 {
	out := map[string]float64{}
	live := map[int]procSample{}
	for k, t := range to {
		out[t.class] += t.cpu - from[k].cpu // from[k] is zero for a new process
		live[k.pid] = t
	}
	self := os.Getpid()
	for k, f := range from {
		if _, ok := to[k]; ok {
			continue
		}
		if parent, ok := live[f.ppid]; ok && f.ppid != self {
			out[parent.class] -= f.cpu
		}
	}
	return out
}
