package report

import (
	"bytes"
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// Text writes the human report: a header with the scenario and the
// environment, then ASCII tables, widest about 100 columns:
//
//   - latency p99 and p50 (ms, from the intended start, successful
//     operations): operations as rows, reads first; architectures as
//     columns, each CQRS figure followed by its ratio to crud;
//   - operations completed (failed) per operation and architecture;
//   - load per architecture: offered and achieved rate, completed, errors,
//     late, dropped, warmup operations;
//   - lag: per pipeline stage of cqrs-kafka and the prober's visible lag
//     of every architecture probed, cqrs-matview's refresh durations;
//   - staleness: reads, stale reads, their share and age, catch-up time;
//   - the payoff verdict: does each CQRS architecture pay off against
//     crud (the run's, or Payoff when it has none);
//   - verdicts (the run's, or Verdicts when it has none);
//   - thresholds with pass, FAIL or skipped and why (the run's, or
//     results.Evaluate of the scenario's when it has none).
//
// A loud warning follows the environment line for each service that was an
// in-process fake (kfake for Kafka).
type Text struct{}

// Write implements Format.
func (Text) Write(w io.Writer, run *results.Run) error {
	if run == nil {
		return errNoRun
	}
	b, err := writePage(run, false)
	if err != nil {
		return err
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("text report: %w", err)
	}
	return nil
}

// page is where the text report's parts are written: its text as it
// comes and its tables, rendered in ASCII or, for the HTML report, kept
// whole (each marked in the text by tableMark).
type page struct {
	bytes.Buffer
	keepTables bool
	tables     []table
}

// tableMark separates the text from a kept table's index in a page.
const tableMark = "\x00"

// writePage writes the whole text report of run to a page, its tables
// kept whole when keepTables is set.
func writePage(run *results.Run, keepTables bool) (*page, error) {
	b := &page{keepTables: keepTables}
	writeHeader(b, run)
	sections := []func(*page, *results.Run) error{
		sweepTable, readShareTable, latencyTables, countTable, loadTable, costTable, processTable, capacityTable, lagTable, stalenessTable, readYourWritesTable, consistencyTable, faultTable, workerErrorTable,
	}
	for _, section := range sections {
		if err := section(b, run); err != nil {
			return nil, fmt.Errorf("text report: %w", err)
		}
	}
	writePayoff(b, run)
	if err := variantTables(b, run); err != nil {
		return nil, fmt.Errorf("text report: %w", err)
	}
	writeVerdicts(b, run)
	if err := thresholdTable(b, run); err != nil {
		return nil, fmt.Errorf("text report: %w", err)
	}
	return b, nil
}

// writeHeader writes what ran, when, and on what.
func writeHeader(b *page, run *results.Run) {
	sc := run.Scenario
	if sc != nil {
		fmt.Fprintf(b, "cqrsbench: scenario %s", sc.Name)
		if sc.Description != "" {
			fmt.Fprintf(b, " — %s", sc.Description)
		}
		b.WriteString("\n")
		fmt.Fprintf(b, "dataset: %d orders, %d customers, skew %g, seed %d",
			sc.Dataset.Orders, sc.Dataset.Customers, sc.Dataset.Skew, sc.Dataset.Seed)
		if sw := sc.Sweep; sw != nil {
			fmt.Fprintf(b, "; swept: %s = %s", sw.Parameter, joinValues(sw.Values))
		}
		b.WriteString("\n")
		fmt.Fprintf(b, "load: %s\n", describeLoad(sc))
	} else {
		b.WriteString("cqrsbench: scenario unknown\n")
	}
	if !run.StartedAt.IsZero() {
		fmt.Fprintf(b, "run: %s", run.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		if !run.FinishedAt.IsZero() {
			fmt.Fprintf(b, " for %s", run.FinishedAt.Sub(run.StartedAt).Round(time.Second))
		}
		if run.Tool.Version != "" {
			fmt.Fprintf(b, ", cqrsbench %s", run.Tool.Version)
			if run.Tool.GoVersion != "" {
				fmt.Fprintf(b, " (%s)", run.Tool.GoVersion)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(environmentLine(run.Environment) + "\n")
	if line := canaryLine(run); line != "" {
		b.WriteString(line + "\n")
	}
	if run.Interrupted {
		var names []string
		for _, a := range run.Architectures {
			names = append(names, a.Name)
		}
		fmt.Fprintf(b, "INTERRUPTED: only %s finished before the run was stopped; thresholds not evaluated\n", strings.Join(names, ", "))
	}
	for _, s := range run.Environment.Infra.Fakes() {
		writeWrapped(b, "WARNING: "+fakeWarning(run, s, "the "+s.Role+" architectures")+".", "!!! ", "!!! ", 100)
		if s.Note != "" {
			writeWrapped(b, "("+s.Note+")", "!!! ", "!!! ", 100)
		}
	}
}

// environmentLine describes the provider, the services the run used and
// the host on one line.
func environmentLine(env results.Environment) string {
	parts := []string{"provider " + orUnknown(env.Infra.Provider)}
	for _, s := range env.Infra.Services {
		parts = append(parts, s.String())
	}
	h := env.Host
	host := "host"
	if h.CPUs > 0 {
		host += fmt.Sprintf(" %d CPUs", h.CPUs)
	}
	host += " " + orUnknown(h.OS)
	if h.Arch != "" {
		host += "/" + h.Arch
	}
	parts = append(parts, host)
	return "environment: " + strings.Join(parts, " · ")
}

// canaryLine says how much the machine drifted during the run, from the
// canary's rates before each round; "" without them.
func canaryLine(run *results.Run) string {
	c := run.Canary()
	if c.Samples == 0 {
		return ""
	}
	return fmt.Sprintf("machine: canary query %.0f–%.0f q/s before the %d runs (max/min %.2fx: the machine's own drift)",
		c.Min, c.Max, c.Samples, c.Max/c.Min)
}

// orUnknown returns s, or "unknown" when it is empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// describeLoad summarises the scenario's load profile on one line.
func describeLoad(sc *scenarios.Scenario) string {
	lp := sc.Load
	var s string
	if lp.Mode == scenarios.ModeClosed {
		s = fmt.Sprintf("closed model, %d workers", lp.Workers)
	} else {
		arrival := string(lp.Arrival)
		if arrival == "" {
			arrival = "uniform"
		}
		if len(lp.Phases) == 1 && lp.Phases[0].Ramp == nil {
			s = fmt.Sprintf("open model, %g ops/s (%s arrivals)", lp.Phases[0].Rate, arrival)
		} else {
			var ph []string
			for _, p := range lp.Phases {
				if p.Ramp != nil {
					ph = append(ph, fmt.Sprintf("%s %s %g→%g", p.Name, p.Duration, p.Ramp.From, p.Ramp.To))
				} else {
					ph = append(ph, fmt.Sprintf("%s %s %g", p.Name, p.Duration, p.Rate))
				}
			}
			s = fmt.Sprintf("open model (%s arrivals), ops/s by phase: %s", arrival, strings.Join(ph, ", "))
		}
	}
	s += fmt.Sprintf("; per architecture %s measured after %s warmup", lp.Duration, lp.Warmup)
	if r := sc.Interleaving.Rounds; r > 1 {
		s += fmt.Sprintf(", %d interleaved rounds", r)
	}
	return s
}

// newTable returns a table writing ASCII to b, with headers as given and
// columns aligned as align says ('l' left, 'r' right, 'c' center).
func newTable(b io.Writer, align string) *tablewriter.Table {
	aligns := make([]tw.Align, len(align))
	for i, c := range align {
		switch c {
		case 'r':
			aligns[i] = tw.AlignRight
		case 'c':
			aligns[i] = tw.AlignCenter
		default:
			aligns[i] = tw.AlignLeft
		}
	}
	return tablewriter.NewTable(b,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	)
}

// table is a titled table to render.
type table struct {
	title  string
	header []string
	rows   [][]string
	// align has one letter per column: 'l' left, 'r' right, 'c' center.
	align string
	// wrap maps a column to the width its cells wrap at, for free text.
	wrap map[int]int
}

// render writes t to b: in ASCII, or kept whole behind a tableMark.
func render(b *page, t table) error {
	if b.keepTables {
		fmt.Fprintf(b, "%s%d%s", tableMark, len(b.tables), tableMark)
		b.tables = append(b.tables, t)
		return nil
	}
	b.WriteString("\n" + t.title + "\n")
	tab := newTable(b, t.align)
	if len(t.wrap) > 0 {
		tab.Configure(func(cfg *tablewriter.Config) {
			cfg.Row.ColMaxWidths.PerColumn = tw.Mapper[int, int](t.wrap)
		})
	}
	tab.Header(toAny(t.header)...)
	for _, r := range t.rows {
		if err := tab.Append(toAny(r)...); err != nil {
			return fmt.Errorf("%s: %w", firstLine(t.title), err)
		}
	}
	if err := tab.Render(); err != nil {
		return fmt.Errorf("%s: %w", firstLine(t.title), err)
	}
	return nil
}

// toAny converts cells for tablewriter.
func toAny(cells []string) []any {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = c
	}
	return out
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// archNames returns the names of the architectures that ran, in run order.
func archNames(run *results.Run) []string {
	out := make([]string, len(run.Architectures))
	for i, a := range run.Architectures {
		out[i] = a.Name
	}
	return out
}

// latencyTables writes the p99 and p50 tables.
func latencyTables(b *page, run *results.Run) error {
	if len(run.Architectures) == 0 {
		b.WriteString("\nno architecture ran\n")
		return nil
	}
	crud, hasCRUD := run.Arch(catalog.Baseline())
	ratioNote := ""
	if hasCRUD && len(run.Architectures) > 1 {
		ratioNote = "\nafter each CQRS figure: its ratio to " + crud.Name + "'s (below 1x: faster than " + crud.Name + ")"
	}
	for _, p := range []struct {
		name string
		get  func(results.Stats) float64
	}{
		{"p99", func(s results.Stats) float64 { return s.P99 }},
		{"p50", func(s results.Stats) float64 { return s.P50 }},
	} {
		title := fmt.Sprintf("Latency %s, ms, from each operation's intended start (queueing included)%s", p.name, ratioNote)
		header := append([]string{"operation"}, archNames(run)...)
		var rows [][]string
		for _, name := range opOrder(run) {
			row := []string{name}
			for i := range run.Architectures {
				row = append(row, latencyCell(&run.Architectures[i], crud, name, p.get))
			}
			rows = append(rows, row)
		}
		if err := render(b, table{title, header, rows, "l" + strings.Repeat("r", len(run.Architectures)), nil}); err != nil {
			return err
		}
	}
	return nil
}

// latencyCell formats one percentile of operation name in a, with its ratio
// to crud's when a is not crud and both have samples.
func latencyCell(a, crud *results.Architecture, name string, get func(results.Stats) float64) string {
	op, ok := a.Op(name)
	if !ok {
		return notRun
	}
	if op.Latency.Count == 0 {
		return noData
	}
	v := get(op.Latency)
	cell := percentile(v, op.Latency)
	if crud == nil || a == crud || cell == noData {
		return cell
	}
	base, ok := crud.Op(name)
	if b := get(base.Latency); ok && base.Latency.Count > 0 && b > 0 {
		cell += fmt.Sprintf(" %6s", ratio(v/b))
	}
	return cell
}

// countTable writes the operations completed per operation and
// architecture.
func countTable(b *page, run *results.Run) error {
	if len(run.Architectures) == 0 {
		return nil
	}
	header := append([]string{"operation"}, archNames(run)...)
	var rows [][]string
	for _, name := range opOrder(run) {
		row := []string{name}
		for i := range run.Architectures {
			op, ok := run.Architectures[i].Op(name)
			switch {
			case !ok:
				row = append(row, notRun)
			case op.Errors > 0:
				row = append(row, fmt.Sprintf("%d (%d failed)", op.Count, op.Errors))
			default:
				row = append(row, count(op.Count))
			}
		}
		rows = append(rows, row)
	}
	return render(b, table{"Operations completed, warmup excluded (failed ones, not in the latencies, in parentheses)",
		header, rows, "l" + strings.Repeat("r", len(run.Architectures)), nil})
}

// loadTable writes the offered and achieved load per architecture.
func loadTable(b *page, run *results.Run) error {
	if len(run.Architectures) == 0 {
		return nil
	}
	header := []string{"architecture", "seconds", "offered", "achieved", "done", "errors", "late", "queued", "dropped", "warmup"}
	var rows [][]string
	for _, a := range run.Architectures {
		l := a.Load
		offered, late, queued, dropped := rate(l.OfferedRate), count(l.Late), count(l.Queued), count(l.Dropped)
		if l.Mode == string(scenarios.ModeClosed) {
			offered, late, queued, dropped = notRun, notRun, notRun, notRun
		}
		rows = append(rows, []string{a.Name, fmt.Sprintf("%.0f", l.DurationSeconds), offered, rate(l.AchievedRate),
			count(l.Completed), count(l.Errors), late, queued, dropped, count(l.WarmupOps)})
	}
	return render(b, table{"Load, warmup excluded (offered and achieved ops/s; done: operations completed; late: started over\n1 ms after its intended time; queued: late after finding every worker busy, the system behind; late\nbut not queued: the load generator's own delay; dropped: never started)",
		header, rows, "lrrrrrrrrr", nil})
}

// slotLabel says what a WAL relay's slot held over the samples.
func slotLabel(s *results.SlotLag) string {
	label := fmt.Sprintf("slot: %s KB behind, %s MB kept", rate(float64(s.BehindBytesMax)/1024), rate(float64(s.RetainedBytesMax)/(1<<20)))
	if s.InactiveSamples > 0 {
		label += fmt.Sprintf(", no relay %d×", s.InactiveSamples)
	}
	if s.Lost {
		label += ", PAST max_slot_wal_keep_size"
	}
	return label
}

// lagTable writes the pipeline stages, the prober's visible lag and the
// refresh durations of every architecture that has any.
func lagTable(b *page, run *results.Run) error {
	header := []string{"architecture", "stage", "count", "p50", "p99", "max", "timeouts"}
	var rows [][]string
	stat := func(arch, stage string, s results.Stats, timeouts string) []string {
		return []string{arch, stage, count(s.Count), percentile(s.P50, s), percentile(s.P99, s), percentile(s.Max, s), timeouts}
	}
	for _, a := range run.Architectures {
		first := len(rows)
		if a.Lag != nil {
			for _, st := range a.Lag.Stages {
				rows = append(rows, stat(a.Name, st.Name, st.Stats, ""))
			}
			label := "visible (prober)"
			if q := a.Lag.ProbeQueries; q > 0 && a.Load.DurationSeconds > 0 {
				label = fmt.Sprintf("visible (prober, %s q/s)", rate(float64(q)/a.Load.DurationSeconds))
				if c := a.Lag.ProbeCapQPS; c > 0 {
					label = fmt.Sprintf("visible (prober, %s of %s q/s)", rate(float64(q)/a.Load.DurationSeconds), rate(c))
				}
			}
			rows = append(rows, stat(a.Name, label, a.Lag.Visible, count(a.Lag.ProbeTimeouts)))
			if r := a.Lag.Replica; r != nil {
				label := fmt.Sprintf("replica age: %s KB behind", rate(float64(r.BytesBehindMax)/1024))
				if a.Load.DurationSeconds > 0 {
					label = fmt.Sprintf("replica age (%s q/s): %s KB behind",
						rate(float64(r.Queries)/a.Load.DurationSeconds), rate(float64(r.BytesBehindMax)/1024))
				}
				rows = append(rows, stat(a.Name, label, r.ReplayAge, ""))
			}
			if s := a.Lag.Slot; s != nil {
				rows = append(rows, []string{a.Name, slotLabel(s), count(s.Samples), "", "", "", ""})
			}
		}
		if r := a.Refresh; r != nil {
			label := "refresh duration"
			if r.Errors > 0 {
				label += fmt.Sprintf(" (%d failed)", r.Errors)
			}
			rows = append(rows, stat(a.Name, label, r.Stats, ""))
		}
		for i := first + 1; i < len(rows); i++ {
			rows[i][0] = "" // the architecture once per group
		}
	}
	if len(rows) == 0 {
		b.WriteString("\nLag: no architecture recorded any (those run read their own writes)\n")
		return nil
	}
	return render(b, table{"Lag, ms: pipeline stages from in-process timestamps (end_to_end: commit to read-model commit);\n" +
		"visible: black-box prober, commit until a query sees the write; replica age: sampled now() -\n" +
		"pg_last_xact_replay_timestamp() on the replica (its queries/s), behind: the most WAL not yet\n" +
		"replayed; slot (count: samples): the WAL relay's slot, the most WAL not yet confirmed relayed and\n" +
		"held for it", header, rows, "llrrrrr", nil})
}

// readYourWritesTable writes, when a run made reads right after the
// reader's own command (order_then_list, a pack's sequence) or applied a read-your-writes
// policy, how many of those reads were stale and what the policy did.
func readYourWritesTable(b *page, run *results.Run) error {
	header := []string{"architecture", "policy", "own-write reads", "stale", "stale %", "redirected", "waited", "timed out"}
	var rows [][]string
	for _, a := range run.Architectures {
		s, rw := a.Staleness, a.ReadYourWrites
		if s.OwnWriteReads == 0 && rw == nil {
			continue
		}
		row := []string{a.Name, "none", count(s.OwnWriteReads), count(s.OwnWriteStale), noData, "-", "-", "-"}
		if s.OwnWriteReads > 0 {
			row[4] = pct(float64(s.OwnWriteStale) / float64(s.OwnWriteReads))
		}
		if rw != nil {
			row[1], row[5], row[6], row[7] = rw.Policy, count(rw.Redirected), count(rw.Waited), count(rw.TimedOut)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	return render(b, table{"Read your writes: reads right after the reader's own command (the shop's order_then_list, a\n" +
		"pack's sequences) and how many missed a write; redirected: reads sent to the write model,\n" +
		"waited: reads retried until they showed the reader's writes, timed out: still missing them at the\n" +
		"timeout",
		header, rows, "llrrrrrr", nil})
}

// stalenessTable writes the stale-read share and age per architecture.
func stalenessTable(b *page, run *results.Run) error {
	if len(run.Architectures) == 0 {
		return nil
	}
	header := []string{"architecture", "reads", "stale", "stale %", "age p50 ms", "age p99 ms", "catch-up s"}
	var rows [][]string
	for _, a := range run.Architectures {
		s := a.Staleness
		share := noData
		if s.Reads > 0 {
			share = pct(s.Rate)
		}
		rows = append(rows, []string{a.Name, count(s.Reads), count(s.Stale), share,
			percentile(s.Age.P50, s.Age), percentile(s.Age.P99, s.Age), fmt.Sprintf("%.1f", a.CatchUpSeconds)})
	}
	return render(b, table{"Staleness of reads (stale: missed a write whose command returned before the read began;\n" +
		"age: how long before the read the missed write committed; catch-up: from end of load to caught up)",
		header, rows, "lrrrrrr", nil})
}

// consistencyTable writes the checker's reconciliation of each read model
// with the write model, and the events a pipeline delivered.
func consistencyTable(b *page, run *results.Run) error {
	header := []string{"architecture", "read model", "rows", "lost", "extra", "mismatched", "dups in", "DLQ"}
	var rows [][]string
	var samples []string
	for _, a := range run.Architectures {
		c := a.Consistency
		if c == nil {
			continue
		}
		if len(c.Tables) == 0 {
			rows = append(rows, []string{a.Name, "(write model)", "-", "-", "-", "-", "-", "-"})
			continue
		}
		for i, t := range c.Tables {
			name, dups, dead := a.Name, count(c.DuplicatesDelivered), count(c.DeadLettered)
			if i > 0 {
				name, dups, dead = "", "", ""
			}
			rows = append(rows, []string{name, t.Table, count(t.Expected), count(t.Missing), count(t.Extra), count(t.Mismatched), dups, dead})
			for _, smp := range t.Samples {
				samples = append(samples, fmt.Sprintf("%s %s %s", a.Name, t.Table, smp))
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err := render(b, table{"Consistency after catch-up: each read model reconciled row by row with what the write model\n" +
		"implies (dups in: duplicate deliveries the inbox suppressed; DLQ: dead-lettered events)",
		header, rows, "llrrrrrr", nil})
	for _, smp := range samples {
		for i, part := range strings.SplitAfter(smp, ": ") {
			if i == 0 {
				fmt.Fprintf(b, "  differs: %s\n", strings.TrimSpace(part))
				continue
			}
			for _, field := range strings.SplitAfter(part, ") ") {
				fmt.Fprintf(b, "    %s\n", clip(strings.TrimSpace(field), 96))
			}
		}
	}
	return err
}

// faultTable writes what each injected fault did: how often it happened,
// the damage the checker found on its architecture (lost events,
// duplicates delivered and applied, mismatched rows) and the time to
// recover, then what became of the operations during outages, catch-up
// and rebuild figures, and injections that failed.
func faultTable(b *page, run *results.Run) error {
	header := []string{"architecture", "fault", "injected", "lost", "dups in", "dups x2", "mismatch", "recovery"}
	var rows [][]string
	var notes []string
	for _, a := range run.Architectures {
		c := a.Consistency
		if c == nil {
			c = &results.Consistency{}
		}
		for i, f := range a.Faults {
			recovery := "-"
			if f.RecoverySeconds > 0 {
				recovery = dur(time.Duration(f.RecoverySeconds * float64(time.Second)))
			}
			// The checker runs once, after all of the architecture's
			// faults: its figures go on the first row only.
			damage := []string{count(c.EventsLost + c.Lost), count(c.DuplicatesDelivered), count(c.DuplicatesApplied), count(c.Mismatched)}
			if i > 0 {
				damage = []string{"", "", "", ""}
			}
			rows = append(rows, slices.Concat([]string{a.Name, f.Kind, strconv.Itoa(f.Injected)}, damage, []string{recovery}))
			notes = append(notes, faultNotes(a, c, f)...)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err := render(b, table{"Faults (lost: events never published plus read-model rows missing; dups in: duplicates\n" +
		"delivered; dups x2: events applied twice; mismatch: rows with a wrong field — the checker's, once\n" +
		"per architecture after all its faults, so on its first row; recovery: from the end of the fault\n" +
		"until every write committed before it was visible, longest of its injections)",
		header, rows, "llrrrrrr", nil})
	for _, n := range notes {
		writeWrapped(b, n, "  ", "      ", 98)
	}
	return err
}

// workerErrorTable shows the errors background workers recovered from: a
// pipeline that retries all the time is slow for a reason, and says which.
func workerErrorTable(b *page, run *results.Run) error {
	var rows [][]string
	var notes []string
	for _, a := range run.Architectures {
		e := a.WorkerErrors
		if e == nil {
			continue
		}
		var parts []string
		for _, p := range e.ByPart {
			parts = append(parts, fmt.Sprintf("%s %d", p.Part, p.Count))
		}
		rows = append(rows, []string{a.Name, count(e.Total), archList(parts, "-")})
		for _, s := range e.Samples {
			notes = append(notes, fmt.Sprintf("%s (%d×): %s", a.Name, s.Count, s.Message))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err := render(b, table{"Worker errors (relay, transport, projector and refresher errors recovered from by retrying)",
		[]string{"architecture", "errors", "by part"}, rows, "lrl", nil})
	for _, n := range notes {
		writeWrapped(b, n, "  ", "      ", 98)
	}
	return err
}

// faultNotes are the lines under the fault table for one fault.
func faultNotes(a results.Architecture, c *results.Consistency, f results.Fault) []string {
	var out []string
	prefix := a.Name + " " + f.Kind + ": "
	out = append(out, prefix+f.Spec)
	if o := f.DuringOutage; o != nil {
		fate := "the checker found every applied command in the read models exactly once"
		if c.Violations > 0 {
			fate = "the checker found damage (see Consistency)"
		}
		line := fmt.Sprintf("%scommands issued while down: %d failed and were reported to the load generator%s, %d applied, %d rejected by the domain; %s; reads: %d failed, %d answered",
			prefix, o.CommandsFailed, kinds(o.ErrorKinds), o.CommandsApplied, o.CommandsRejected, fate, o.ReadsFailed, o.ReadsOK)
		out = append(out, line)
	}
	if cu := f.CatchUp; cu != nil {
		out = append(out, fmt.Sprintf("%spaused %s with a backlog of %d records; consistent again %s after the resume, applying %d events "+
			"(%s events/s overall; first records fetched after %s, then %s events/s)",
			prefix, dur(time.Duration(cu.PausedSeconds*float64(time.Second))), cu.Backlog,
			dur(time.Duration(cu.Seconds*float64(time.Second))), cu.Applied, rate(cu.EventsPerSecond),
			dur(time.Duration(cu.RejoinSeconds*float64(time.Second))), rate(cu.DrainEventsPerSecond)))
	}
	if rb := f.Rebuild; rb != nil {
		out = append(out, fmt.Sprintf("%sreplayed %d records in %s (%s events/s); consistent again %s after it began",
			prefix, rb.Events, dur(time.Duration(rb.ReplaySeconds*float64(time.Second))), rate(rb.EventsPerSecond),
			dur(time.Duration(rb.TotalSeconds*float64(time.Second)))))
	}
	for _, e := range f.Errors {
		out = append(out, prefix+"NOT AS PLANNED: "+e)
	}
	return out
}

// writeWrapped writes text wrapped at width columns on word boundaries,
// the first line indented by first, the others by rest.
func writeWrapped(b *page, text, first, rest string, width int) {
	line := first
	for i, word := range strings.Fields(text) {
		if i > 0 && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = rest + word
			continue
		}
		if i > 0 {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

// kinds renders error counts by kind, " (unavailable 12, timeout 1)".
func kinds(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// writePayoff writes the run's payoff verdict, computing it when the run
// has none; nothing when there is none to compute (crud alone, or no crud).
func writePayoff(b *page, run *results.Run) {
	p := run.Payoff
	if p == nil {
		p = Payoff(run)
	}
	if p == nil {
		return
	}
	fmt.Fprintf(b, "\nDoes CQRS pay off? (p50 and p99 ratios to crud, [%.0f%% intervals] across %s;\ndifferences under %s are not called; staleness budget %s)\n",
		p.Confidence*100, plural(int64(p.Rounds), "round", "interleaved rounds"), pct(p.MinEffect), human(p.StalenessBudgetMs*1000))
	b.WriteString(wrap(p.Summary, "  ", 100))
	for _, a := range p.Architectures {
		fmt.Fprintf(b, "  - %s\n", a.Sentence)
	}
}

// wrap breaks text into lines of at most width columns (a longer word
// gets a line of its own), each starting with indent and ending in "\n".
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	return b.String() + line + "\n"
}

// writeVerdicts writes the run's verdicts, computing them when it has none.
func writeVerdicts(b *page, run *results.Run) {
	v := run.Verdicts
	if len(v) == 0 {
		v = Verdicts(run)
	}
	if run.Payoff != nil || Payoff(run) != nil {
		b.WriteString("\nVerdict on the figures merged over all rounds (no intervals: the answer is above), and warnings\n")
	} else {
		b.WriteString("\nVerdict\n")
	}
	for _, line := range v {
		fmt.Fprintf(b, "  - %s\n", line)
	}
}

// thresholdTable writes the evaluated thresholds, evaluating the
// scenario's when the run has none.
func thresholdTable(b *page, run *results.Run) error {
	ths := run.Thresholds
	if len(ths) == 0 && run.Scenario != nil && len(run.Scenario.Thresholds) > 0 {
		ths = results.Evaluate(run, run.Scenario.Thresholds)
	}
	if len(ths) == 0 {
		b.WriteString("\nThresholds: none set by the scenario\n")
		return nil
	}
	var passed, failed, skipped int
	var rows [][]string
	for _, t := range ths {
		observed, verdict := notRun, ""
		switch {
		case t.Skipped != "":
			skipped++
			verdict = "skipped: " + t.Skipped
		case t.Passed:
			passed++
			verdict = "pass"
		default:
			failed++
			verdict = "FAIL"
		}
		if t.Skipped == "" {
			observed = observedValue(t)
		}
		rows = append(rows, []string{t.Threshold, observed, verdict})
	}
	title := fmt.Sprintf("Thresholds: %d passed, %d failed, %d skipped", passed, failed, skipped)
	if failed > 0 {
		title += " — FAILED"
	}
	// Skip reasons wrap so the table fits 100 columns.
	return render(b, table{title, []string{"threshold", "observed", "result"}, rows, "lrl", map[int]int{2: 40}})
}

// observedValue formats a threshold's observed value with its unit.
func observedValue(t results.ThresholdResult) string {
	v := fmt.Sprintf("%.4g", t.Value)
	if strings.ContainsAny(v, "e") {
		v = fmt.Sprintf("%.0f", t.Value)
	}
	switch t.Unit {
	case "":
		return v
	case "%", "/s":
		return v + t.Unit
	default:
		return v + " " + t.Unit
	}
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// archList joins names, or says none when there are none.
func archList(names []string, none string) string {
	if len(names) == 0 {
		return none
	}
	return strings.Join(names, ", ")
}
