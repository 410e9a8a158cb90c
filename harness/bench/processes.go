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

// processCPU returns the CPU seconds (user and system) every live process
// of each class has used since it started. A process that ended since an
// earlier reading takes its time with it: PostgreSQL's pooled backends,
// the brokers and cqrsbench live through a run, so the loss is the odd
// short-lived backend.
func processCPU() (map[string]float64, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	out := map[string]float64{}
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue // ended while listed
		}
		if class := processClass(st.Comm, p.PID, self); class != "" {
			out[class] += st.CPUTime()
		}
	}
	return out, nil
}
