package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

// BenchLines writes run in the Go benchmark format, so benchstat can
// compare two runs (`benchstat old.txt new.txt`):
//
//	scenario: mixed
//	infra: local
//	BenchmarkCQRS/crud/list_orders 1 2000000 p50-ns 6100000 p99-ns 220.00 ops/s
//	BenchmarkCQRS/cqrs-kafka/lag 1 20000000 p50-ns 41000000 p99-ns
//	BenchmarkCQRS/cqrs-kafka/visible 1 21000000 p50-ns 43000000 p99-ns
//	BenchmarkCQRS/cqrs-kafka/staleness 1 0.008 stale-ratio
//
// First come configuration lines (key: value) naming what the run measured:
// scenario, provider, server versions, broker kind, host. Then one line per
// architecture and operation with latencies from the intended start (p50,
// p99 in ns) and the achieved rate; then the end-to-end projection lag and
// the prober's visible lag where recorded, and the stale-read ratio where
// reads were classified. Operations without a successful sample have no
// line: benchstat cannot compare a missing value.
func BenchLines(w io.Writer, run *results.Run) error {
	if run == nil {
		return errNoRun
	}
	bw := bufio.NewWriter(w)
	for _, kv := range benchConfig(run) {
		if kv[1] != "" {
			fmt.Fprintf(bw, "%s: %s\n", kv[0], kv[1])
		}
	}
	for i := range run.Architectures {
		a := &run.Architectures[i]
		name := "BenchmarkCQRS/" + benchName(a.Name) + "/"
		for _, op := range a.Ops {
			if op.Latency.Count == 0 {
				continue
			}
			fmt.Fprintf(bw, "%s%s 1 %s p50-ns %s p99-ns %.2f ops/s\n",
				name, benchName(op.Name), ns(op.Latency.P50), ns(op.Latency.P99), op.Rate)
		}
		if st, ok := a.Lag.Stage(results.StageEndToEnd); ok && st.Stats.Count > 0 {
			fmt.Fprintf(bw, "%slag 1 %s p50-ns %s p99-ns\n", name, ns(st.Stats.P50), ns(st.Stats.P99))
		}
		if a.Lag != nil && a.Lag.Visible.Count > 0 {
			fmt.Fprintf(bw, "%svisible 1 %s p50-ns %s p99-ns\n", name, ns(a.Lag.Visible.P50), ns(a.Lag.Visible.P99))
		}
		if a.Staleness.Reads > 0 {
			fmt.Fprintf(bw, "%sstaleness 1 %s stale-ratio\n", name, strconv.FormatFloat(a.Staleness.Rate, 'g', 6, 64))
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}

// benchConfig returns the configuration lines of run, in order.
func benchConfig(run *results.Run) [][2]string {
	env := run.Environment
	scenario := ""
	if run.Scenario != nil {
		scenario = run.Scenario.Name
	}
	cpus := ""
	if env.Host.CPUs > 0 {
		cpus = strconv.Itoa(env.Host.CPUs)
	}
	config := [][2]string{
		{"goos", env.Host.OS},
		{"goarch", env.Host.Arch},
		{"scenario", scenario},
		{"infra", env.Infra.Provider},
	}
	// One line per service, named by its role: "kafka: Apache Kafka 4.1.1".
	for _, s := range env.Infra.Services {
		config = append(config, [2]string{s.Role, s.String()})
	}
	return append(config, [][2]string{{"cpus", cpus}, {"cqrsbench", run.Tool.Version}}...)
}

// benchName makes s safe as part of a benchmark name: no spaces, and no
// trailing "-N", which benchstat would read as GOMAXPROCS.
func benchName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' {
			return '_'
		}
		return r
	}, s)
	if i := strings.LastIndexByte(s, '-'); i >= 0 && i < len(s)-1 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			s = s[:i] + "_" + s[i+1:]
		}
	}
	return s
}

// ns formats microseconds as whole nanoseconds.
func ns(us float64) string { return strconv.FormatInt(int64(us*1000+0.5), 10) }
