// Command cqrsbench measures whether CQRS pays off for an e-commerce order
// workload: it runs reference CRUD and CQRS implementations against real
// PostgreSQL and Kafka and prints comparison tables.
//
// This file only parses flags and builds configurations; behaviour lives in
// the harness and reference packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cqrsbench/cqrsbench/harness/infra"
)

// Exit codes of the CLI contract (DESIGN.md §6).
const (
	exitOK          = 0
	exitFailed      = 1 // a threshold, regression or consistency check failed
	exitUsage       = 2 // bad flag, file or value
	exitInfra       = 3 // infrastructure unavailable or failed
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run scenarios on the architectures and print comparison tables", runRun},
		{"scenarios", "list the built-in scenarios", runScenarios},
		{"workloads", "list the workloads: the built-in shop and the workload packs in workloads/", runWorkloads},
		{"compare", "set a run beside a baseline run; exit 1 if it regressed", runCompare},
		{"report", "write an HTML report with latency and lag charts of results files", runReport},
		{"check", "reconcile the read models with the write model", runCheck},
		{"infra", "start the infrastructure (infra up) and print its addresses", runInfra},
		{"load", "create the write-model schema and load a generated dataset", runLoad},
		{"init", "write a draft workload pack from an existing database (--from-db DSN --out DIR)", runInit},
	}
}

const usageHead = `cqrsbench — does CQRS pay off for this workload? Measured on real PostgreSQL and Kafka.

Usage:
  cqrsbench <command> [flags]

Commands:
`

const usageTail = `
Run 'cqrsbench <command> -h' for a command's flags.

Exit codes: 0 ok; 1 a check failed; 2 usage or input error; 3 infrastructure
unavailable; 130 interrupted.
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(ctx, stderr, c.run(ctx, args[1:], stdout, stderr))
		}
	}
	fmt.Fprintf(stderr, "cqrsbench: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) ExitCode() int { return exitUsage }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelp is returned when -h was given and help was printed.
var errHelp = errors.New("help shown")

// exitCode reports err on stderr and maps it to an exit code.
func exitCode(ctx context.Context, stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "cqrsbench: interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "cqrsbench:", err)
	var coder infra.ExitCoder
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	return exitFailed
}

// parseFlags parses args into fs, turning flag errors into usage errors and
// rejecting stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	help := fs.Usage
	fs.Usage = func() {} // the flag package calls it on any error; print it only for -h
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help()
			return errHelp
		}
		return usagef("%s: %v (run 'cqrsbench %s -h' for the flags)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (run 'cqrsbench %s -h' for the flags)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}
