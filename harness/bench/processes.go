package bench

import (
	"os"

	"github.com/prometheus/procfs"
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

// processClass names the class of a process by its command name (the
// local and docker providers run these; a container's processes are the
// host's too), "" for any other.
func processClass(comm string, pid, self int) string {
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

// procKey identifies a process over its life: a PID and its start time,
// since PIDs are reused.
type procKey struct {
	pid   int
	start uint64
}

// procSample is a process's class and CPU seconds (user and system) used
// since it started.
type procSample struct {
	class string
	cpu   float64
}

// processCPU reads every live process of a class.
func processCPU() (map[procKey]procSample, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	out := map[procKey]procSample{}
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue // ended while listed
		}
		if class := processClass(st.Comm, p.PID, self); class != "" {
			out[procKey{p.PID, st.Starttime}] = procSample{class, st.CPUTime()}
		}
	}
	return out, nil
}

// processCPUDelta is each class's CPU between two readings: a process in
// both counts its growth, one started since counts all its time, one
// that ended since counts nothing (its last moments are lost; nothing goes
// negative when another test's server stops).
func processCPUDelta(from, to map[procKey]procSample) map[string]float64 {
	out := map[string]float64{}
	for k, t := range to {
		out[t.class] += t.cpu - from[k].cpu // from[k] is zero for a new process
	}
	return out
}
