package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

const runDescription = `
Runs each SCENARIO (a built-in name from 'cqrsbench scenarios', or a YAML
file) on every architecture it names: loads the dataset into the
architecture's schema, builds its read models, offers the scenario's
open-model load (latency measured from each operation's intended start, late
and dropped operations counted, warmup discarded), waits until the read side
has caught up, and prints side-by-side tables. Without SCENARIO, runs "mixed".
The workload is the scenario's (the built-in order shop unless it names
one), or --workload: the shop, or a workload pack — your own schema,
commands and screens (workloads/README.md).

Faults (the scenario's faults, or --fault) are injected on their schedule,
timed from the end of the warmup, and a fault table says how often each
happened, what the checker found and how long recovery took.

The results document (JSON, with the histograms) is written to --out; its
path is printed. The exit code is 1 when a threshold of the scenario fails,
when the checker finds a read model that differs from its write model
(events lost or applied twice), or when a fault could not be injected.

Examples:
  cqrsbench run                                  # the default suite on the best infrastructure
  cqrsbench run smoke --infra local
  cqrsbench run read-heavy --arch crud,cqrs-sync --orders 1000000 --duration 60s
  cqrsbench run broker-restart --fault kind=broker-restart,at=20s,duration=5s
  cqrsbench run mixed --fault kind=pg-restart,at=10s --fault kind=relay-crash,at=5s,every=5s
  cqrsbench run crashes --arch cqrs-kafka,cqrs-kafka/wal --option cqrs-kafka/wal.relay=wal
  cqrsbench run page-sweep --sweep orders_per_customer=5,50,500   # does the read model stay flat?
  cqrsbench run smoke --workload workloads/helpdesk   # a workload pack: your schema, commands, screens
`

// optionalFlags records which override flags were given.
type optionalFlags struct {
	orders   int
	duration time.Duration
	rate     float64
	seed     uint64
	arch     string
	faults   []string
	workload string
	budget   time.Duration
	findMax  bool
	sweep    *scenarios.Sweep
	ryw      []string
	options  []string
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f infraFlags
	var o optionalFlags
	fs := flagSet("run", "run [SCENARIO|FILE ...] [flags]", runDescription+architecturesHelp(), stdout)
	f.register(fs)
	fs.IntVar(&o.orders, "orders", 0, "override the dataset size (orders)")
	fs.DurationVar(&o.duration, "duration", 0, "override the measured duration per architecture (phases scale with it)")
	fs.Float64Var(&o.rate, "rate", 0, "override the offered rate in ops/s (the peak, with phases)")
	fs.Uint64Var(&o.seed, "seed", 0, "override the dataset and workload seed")
	fs.BoolVar(&o.findMax, "find-max-rate", false, "after each architecture's run, search for the highest rate of the mix it sustains (load kept up, every p99 within capacity.max_p99, a pipeline's lag within the staleness budget) and print it beside the rate its CPU cost predicts")
	fs.DurationVar(&o.budget, "staleness-budget", 0, "the longest lag p99 a CQRS architecture may have and still pay off in the verdict (default: the scenario's verdict.staleness_budget, 200ms unless it sets one)")
	fs.Func("read-your-writes", "the read-your-writes `POLICY` of every architecture's sessions (the scenario's read_your_writes.policies dropped), or ARCH=POLICY for one architecture or variant run (repeat for several): "+strings.Join(workload.RYWPolicies(), ", ")+" (a customer's reads within read_your_writes.window after their own command go to the write model; or wait until the read side shows the command, up to read_your_writes.timeout); default: the scenario's, none unless it sets one. E.g. --arch crud-replica,crud-replica/wait --read-your-writes crud-replica/wait=wait-for-token measures the policy's cost in the same rounds. The operation order_then_list is a read right after one's own write", func(v string) error {
		o.ryw = append(o.ryw, v)
		return nil
	})
	fs.StringVar(&o.workload, "workload", "", "the workload to drive (`NAME|DIR`): shop, built in, or a workload pack's directory, like workloads/helpdesk ('cqrsbench workloads' lists them; the architectures that do not run packs are left out)")
	fs.StringVar(&o.arch, "arch", "", "comma-separated architectures to run: "+strings.Join(archNames(), ",")+"; or a variant of one, `NAME/LABEL` (the architecture again under its own name, with its own --option values), to compare two settings in the same rounds")
	fs.Func("option", "set an architecture's option, `ARCH.FIELD=VALUE` (repeat for several), as options.ARCH.FIELD in a scenario, e.g. cqrs-kafka/wal.relay=wal; the fields are in scenarios/README.md", func(v string) error {
		o.options = append(o.options, v)
		return nil
	})
	fs.Func("fault", "replace the scenario's faults with this one (repeat for several; `none` for no fault): the fault's YAML fields as key=value pairs, e.g. kind=broker-restart,at=15s,duration=10s; kinds and fields in scenarios/README.md", func(v string) error {
		o.faults = append(o.faults, v)
		return nil
	})
	fs.Func("sweep", "run the scenario once per value of one parameter, `PARAMETER=V1,V2,...`: orders_per_customer (the same orders over fewer customers: fuller screens), orders, or read_share (0 to 1); e.g. orders_per_customer=5,50,500", func(v string) error {
		sw, err := scenarios.ParseSweep(v)
		o.sweep = sw
		return err
	})
	out := fs.String("out", "results", "directory for the results JSON")
	jsonOut := fs.Bool("json", false, "write the results JSON to stdout instead of the tables")
	benchOut := fs.Bool("bench", false, "write go-bench lines to stdout instead of the tables, for benchstat (repeat runs and compare with 'benchstat old.txt new.txt')")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of cqrsbench itself to this file (to check the load generator is not the bottleneck)")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *jsonOut && *benchOut {
		return usagef("run: --json and --bench both choose what goes to stdout; pass one")
	}
	if len(names) == 0 {
		names = []string{scenarios.DefaultName}
	}
	overrides := o.overrides(fs)
	var scs []*scenarios.Scenario
	for _, n := range names {
		sc, err := scenarios.Resolve(n)
		if err == nil {
			sc, err = sc.WithOverrides(overrides)
		}
		if err != nil {
			return usagef("%v", err)
		}
		if err := bench.Supported(sc, f.knownProvider()); err != nil {
			return err
		}
		scs = append(scs, sc)
	}

	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		defer stop()
	}
	f.skipKafka = !slices.ContainsFunc(scs, func(sc *scenarios.Scenario) bool { return needs(sc, catalog.Kafka) })
	f.rabbitMQ = slices.ContainsFunc(scs, func(sc *scenarios.Scenario) bool { return needs(sc, catalog.RabbitMQ) })
	f.replica = slices.ContainsFunc(scs, func(sc *scenarios.Scenario) bool { return needs(sc, catalog.Replica) })
	progress := stderr
	if f.quiet {
		progress = nil
	}
	env, err := infra.Open(ctx, f.config(progress))
	if err != nil {
		return err
	}
	defer closeInfra(env, stderr)

	var format report.Format = report.Text{}
	switch {
	case *jsonOut:
		format = report.JSON{}
	case *benchOut:
		format = report.Bench{}
	}
	var failures []string
	for _, sc := range scs {
		run, err := bench.Run(ctx, bench.Config{Scenario: sc, Infra: env, Progress: progress, Version: toolVersion()})
		if err != nil {
			if run != nil && run.Interrupted && len(run.Architectures) > 0 {
				// Keep what finished before the interrupt.
				if werr := finishRun(run, sc, *out, format, stdout, stderr); werr != nil {
					err = errors.Join(err, werr)
				}
			}
			return fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		if err := finishRun(run, sc, *out, format, stdout, stderr); err != nil {
			return err
		}
		failures = append(failures, runFailures(sc.Name, run)...)
	}
	if len(failures) > 0 {
		return &checkFailed{strings.Join(failures, "\n")}
	}
	return nil
}

// finishRun computes run's verdicts and, unless it was interrupted, its
// thresholds, writes it to a new file in dir and prints it in format.
func finishRun(run *results.Run, sc *scenarios.Scenario, dir string, format report.Format, stdout, stderr io.Writer) error {
	run.Verdicts = report.Verdicts(run)
	run.Payoff = report.Payoff(run)
	run.Variants = report.Variants(run)
	if !run.Interrupted {
		run.Thresholds = results.Evaluate(run, sc.Thresholds)
	}
	path, err := results.Write(dir, run)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := format.Write(stdout, run); err != nil {
		return err
	}
	what := "results"
	if run.Interrupted {
		what = fmt.Sprintf("results of the %d architectures that finished before the interrupt", len(run.Architectures))
	}
	fmt.Fprintf(stderr, "%s: %s\n", what, path)
	return nil
}

// runFailures lists why a run fails (exit 1): a threshold failed, the
// checker found read models that differ from their write model (events
// lost or applied twice), or a fault could not be injected.
func runFailures(scenario string, run *results.Run) []string {
	var out []string
	if results.Failed(run.Thresholds) {
		out = append(out, fmt.Sprintf("scenario %s: a threshold failed (see the table above)", scenario))
	}
	archs := run.Architectures
	if run.Sweep != nil && len(run.Sweep.Points) > 0 {
		archs = nil // every point's, the last's among them
		for _, p := range run.Sweep.Points {
			archs = append(archs, p.Architectures...)
		}
	}
	for _, a := range archs {
		if c := a.Consistency; c != nil && c.Violations > 0 {
			out = append(out, fmt.Sprintf("scenario %s: %s: the checker found %d violations (lost %d, mismatched %d, extra %d rows; %d events lost, %d applied twice)",
				scenario, a.Name, c.Violations, c.Lost, c.Mismatched, c.Extra, c.EventsLost, c.DuplicatesApplied))
		}
		for _, f := range a.Faults {
			for _, e := range f.Errors {
				out = append(out, fmt.Sprintf("scenario %s: %s: fault %s: %s", scenario, a.Name, f.Kind, e))
			}
		}
	}
	return out
}

// checkFailed is a failed threshold, regression or consistency check: exit 1.
type checkFailed struct{ msg string }

func (e *checkFailed) Error() string { return e.msg }
func (e *checkFailed) ExitCode() int { return exitFailed }

// overrides returns the scenario overrides of the flags that were given.
func (o *optionalFlags) overrides(fs *flag.FlagSet) scenarios.Overrides {
	var ov scenarios.Overrides
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "orders":
			ov.Orders = &o.orders
		case "duration":
			ov.Duration = &o.duration
		case "rate":
			ov.Rate = &o.rate
		case "seed":
			ov.Seed = &o.seed
		case "arch":
			ov.Arch = []string{o.arch}
		case "fault":
			ov.Faults = o.faults
		case "workload":
			ov.Workload = &o.workload
		case "find-max-rate":
			ov.FindMaxRate = o.findMax
		case "staleness-budget":
			ov.StalenessBudget = &o.budget
		case "sweep":
			ov.Sweep = o.sweep
		case "read-your-writes":
			ov.ReadYourWrites = o.ryw
		case "option":
			ov.Options = o.options
		}
	})
	return ov
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parseFlagsOnly(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseFlagsOnly is parseFlags without the ban on positional arguments.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	help := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = help }()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help()
			return errHelp
		}
		return usagef("%s: %v (run 'cqrsbench %s -h' for the flags)", fs.Name(), err, fs.Name())
	}
	return nil
}

func archNames() []string {
	var out []string
	for _, a := range scenarios.Architectures() {
		out = append(out, string(a))
	}
	return out
}

func runScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("scenarios", "scenarios", "Lists the built-in scenarios with what each shows.", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	all, err := scenarios.Builtins()
	if err != nil {
		return err
	}
	for _, sc := range all {
		fmt.Fprintf(stdout, "  %-15s %s\n", sc.Name, sc.Description)
	}
	fmt.Fprintf(stdout, "\nRun one with 'cqrsbench run NAME'; the files are in scenarios/ (format: scenarios/README.md).\n")
	return nil
}

// toolVersion identifies this build in results: the module version, or the
// VCS revision when built from a checkout, or "dev".
func toolVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "dev"
}

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// needs reports whether one of sc's architectures needs service s.
func needs(sc *scenarios.Scenario, s catalog.Service) bool {
	return slices.ContainsFunc(sc.Architectures, func(a scenarios.Arch) bool {
		d, ok := sc.Descriptor(a)
		return ok && slices.Contains(d.Needs, s)
	})
}

// architecturesHelp lists the architectures of the table for --help.
func architecturesHelp() string {
	var b strings.Builder
	b.WriteString("\nArchitectures (--arch; options in a scenario under options.<name>):\n")
	for _, d := range catalog.Table() {
		fmt.Fprintf(&b, "  %-14s %-9s %s\n", d.Name, d.Consistency, d.Summary)
	}
	return b.String()
}
