package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

const workloadsDescription = `
Lists the workloads cqrsbench can drive: the built-in one (the order shop)
and every workload pack — a directory with workload.yaml and SQL files
(format: workloads/README.md) — found in DIR (default: workloads). For each:
its operations (commands, then screens) and the architectures that run it.

Run one with 'cqrsbench run SCENARIO --workload NAME|DIR'.
`

func runWorkloads(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("workloads", "workloads [DIR]", workloadsDescription, stdout)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	dir := "workloads"
	switch len(names) {
	case 0:
	case 1:
		dir = names[0]
	default:
		return usagef("workloads: give at most one directory, got %s", strings.Join(names, " "))
	}
	for _, w := range catalog.Workloads() {
		describeWorkload(stdout, w.Name()+" (built in)", w)
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return usagef("workloads: %v", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(path, pack.FileName)); !e.IsDir() || err != nil {
			continue
		}
		p, err := pack.Load(path)
		if err != nil {
			fmt.Fprintf(stdout, "%s\n  BROKEN: %v\n\n", path, err)
			continue
		}
		describeWorkload(stdout, path, p)
	}
	return nil
}

// describeWorkload prints what a workload offers.
func describeWorkload(w io.Writer, title string, work workload.Workload) {
	fmt.Fprintln(w, title)
	if p, ok := work.(*pack.Pack); ok && p.Description != "" {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(p.Description))
	}
	var cmds, screens []string
	for _, op := range work.Operations() {
		if op.Query {
			screens = append(screens, op.Name)
		} else {
			cmds = append(cmds, op.Name)
		}
	}
	fmt.Fprintf(w, "  commands: %s\n  screens:  %s\n", orNone(cmds), orNone(screens))
	var archs []string
	for _, d := range catalog.Table() {
		if catalog.Runs(d, work) {
			archs = append(archs, d.Name)
		}
	}
	fmt.Fprintf(w, "  architectures: %s\n\n", orNone(archs))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}
