package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// costTable writes what each architecture's operations cost the host and
// the database; nothing when no architecture measured it.
func costTable(b *page, run *results.Run) error {
	header := []string{"architecture", "CPU µs", "max/s", "WAL B/cmd", "SQL µs", "PG CPU", "SQL/op", "blk/op", "RM", "pipe"}
	crud, _ := run.Arch(catalog.Baseline())
	var rows [][]string
	var missing, cpuMissing, skipped string
	for _, a := range run.Architectures {
		c := a.Cost
		if c == nil {
			continue
		}
		cpu, maxRate := noData, noData
		if c.CPUPerOpUs > 0 {
			cpu = strconv.FormatFloat(c.CPUPerOpUs, 'f', 0, 64)
		}
		if c.PredictedMaxRate > 0 {
			maxRate = rate(c.PredictedMaxRate)
		} else if c.PredictionSkipped != "" {
			skipped = a.Name + ": no max/s: " + c.PredictionSkipped
		}
		wal := strconv.FormatFloat(c.WALBytesPerCommand, 'f', 0, 64)
		if crud != nil && crud.Cost != nil && crud.Cost.WALBytesPerCommand > 0 && a.Name != crud.Name {
			wal += " (" + ratio(c.WALBytesPerCommand/crud.Cost.WALBytesPerCommand) + ")"
		}
		sqlTime, pgCPU, sqlCalls, blocks := noData, noData, noData, noData
		if s := c.Statements; s != nil && c.Ops > 0 {
			sqlTime = strconv.FormatFloat(s.ExecUsPerOp, 'f', 0, 64)
			if s.CPUMissing == "" {
				pgCPU = strconv.FormatFloat(s.CPUUsPerOp, 'f', 0, 64)
			} else {
				cpuMissing = s.CPUMissing
			}
			sqlCalls = strconv.FormatFloat(s.CallsPerOp, 'f', 1, 64)
			blocks = strconv.FormatFloat(float64(s.SharedBlocks)/float64(c.Ops), 'f', 0, 64)
		} else if c.StatementsMissing != "" {
			missing = c.StatementsMissing
		}
		rows = append(rows, []string{a.Name, cpu, maxRate, wal, sqlTime, pgCPU, sqlCalls, blocks,
			megabytes(storageOf(c, results.RoleReadModel)), megabytes(storageOf(c, results.RolePipeline))})
	}
	if len(rows) == 0 {
		return nil
	}
	title := "Cost per operation, warmup excluded (CPU µs: every process of the host, per operation; max/s:\n" +
		"the rate at which that would keep all its CPUs busy; WAL bytes per command, × crud's; SQL µs,\n" +
		"SQL/op, blk/op: pg_stat_statements' execution time, statements and shared blocks per operation;\n" +
		"PG CPU: PostgreSQL's CPU µs in them (pg_stat_kcache), the rest of CPU µs being the client's, the\n" +
		"pipeline's and the brokers'; RM, pipe: read models' and pipeline tables' (outbox, inbox) MB\n" +
		"after the run, indexes included)"
	for _, m := range []string{missing, cpuMissing, skipped} {
		if m != "" {
			var note page
			writeWrapped(&note, m, "", "", 100)
			title += "\n" + strings.TrimRight(note.String(), "\n")
		}
	}
	return render(b, table{title, header, rows, "lrrrrrrrrr", nil})
}

// capacityTable writes the predicted and measured highest sustainable
// rates; nothing when no architecture searched.
func capacityTable(b *page, run *results.Run) error {
	header := []string{"architecture", "CPU law/s", "queueing/s", "1st step/s", "measured/s", "CPU busy", "failed at/s"}
	var rows [][]string
	for _, a := range run.Architectures {
		c := a.Capacity
		if c == nil {
			continue
		}
		measured, failed := "none sustained", "none failed"
		// predicted is a prediction and its ratio to the measured rate.
		predicted := func(r float64) string {
			switch {
			case r <= 0:
				return noData
			case c.MeasuredMaxRate <= 0:
				return rate(r)
			}
			return rate(r) + " (" + strconv.FormatFloat(r/c.MeasuredMaxRate, 'f', 2, 64) + "x)"
		}
		if c.MeasuredMaxRate > 0 {
			measured = rate(c.MeasuredMaxRate)
		}
		if c.FirstFailedRate > 0 {
			failed = rate(c.FirstFailedRate)
		}
		busy := noData
		if a.Cost != nil && a.Cost.HostCPUs > 0 {
			for _, s := range c.Steps {
				if s.Sustained && s.OfferedRate == c.MeasuredMaxRate && s.BusyCPUs > 0 {
					busy = pct(s.BusyCPUs / float64(a.Cost.HostCPUs))
				}
			}
		}
		rows = append(rows, []string{a.Name, predicted(c.PredictedMaxRate), predicted(c.QueueingMaxRate), predicted(c.CalibratedMaxRate), measured, busy, failed})
	}
	if len(rows) == 0 {
		return nil
	}
	return render(b, table{"Capacity (CPU law: the rate at which the host's CPUs would be all busy, from the run's own\n" +
		"CPU per operation (its services and cqrsbench) with the idle work apart; queueing: the highest rate\n" +
		"a simulation of that CPU time, split over the operations by their service times, sustains through\n" +
		"the pool's connections; 1st step: the same simulation with the CPU per operation measured in the\n" +
		"search's first step, nearer the knee, where wake-ups and round trips cost less an operation; each\n" +
		"with its ratio to measured: the highest rate a step sustained — load kept up, every p99 within\n" +
		"capacity.max_p99 or 5x the run's, a pipeline's lag within the staleness budget; CPU busy at it\n" +
		"well under 100%: something other than the CPU saturates first)",
		header, rows, "lrrrrrr", nil})
}

// storageOf adds up the bytes of c's tables of the given role.
func storageOf(c *results.Cost, role string) int64 {
	var n int64
	for _, t := range c.Storage {
		if t.Role == role {
			n += t.Bytes
		}
	}
	return n
}

// megabytes formats a size in MB: "-" for none.
func megabytes(n int64) string {
	if n == 0 {
		return notRun
	}
	mb := float64(n) / (1 << 20)
	if mb < 10 {
		return fmt.Sprintf("%.1f", mb)
	}
	return fmt.Sprintf("%.0f", mb)
}

// processTable writes each architecture's host CPU per operation split by
// process; nothing when no architecture has the split.
func processTable(b *page, run *results.Run) error {
	var classes []string
	for _, a := range run.Architectures {
		if a.Cost == nil {
			continue
		}
		for _, p := range a.Cost.ProcessCPU {
			if !slices.Contains(classes, p.Process) {
				classes = append(classes, p.Process)
			}
		}
	}
	if len(classes) == 0 {
		return nil
	}
	// Table order is each architecture's order, other last.
	slices.SortStableFunc(classes, func(x, y string) int {
		return cmp.Compare(boolInt(x == results.ProcessOther), boolInt(y == results.ProcessOther))
	})
	var rows [][]string
	for _, a := range run.Architectures {
		if a.Cost == nil || len(a.Cost.ProcessCPU) == 0 {
			continue
		}
		row := []string{a.Name}
		for _, class := range classes {
			cell := notRun
			for _, p := range a.Cost.ProcessCPU {
				if p.Process == class {
					cell = strconv.FormatFloat(p.UsPerOp, 'f', 0, 64)
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, append(row, strconv.FormatFloat(a.Cost.CPUPerOpUs, 'f', 0, 64)))
	}
	title := "Host CPU per operation by process, µs (cqrsbench: the load generator, the architecture's client\n" +
		"side and its in-process relays and projectors; other: the rest of the host; only this host's\n" +
		"processes are seen)"
	header := append(append([]string{"architecture"}, classes...), "host")
	return render(b, table{title, header, rows, "l" + strings.Repeat("r", len(classes)+1), nil})
}

// boolInt is 1 for true.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
