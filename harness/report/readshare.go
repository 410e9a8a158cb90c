package report

import (
	"fmt"
	"html/template"
	"strconv"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// The capacity model by read share: over a read-share sweep, each point's
// CPU demand per operation (Cost.DemandSeconds: the run's own CPU with
// the idle work apart) is a mix of a read's demand R and a command's W,
// d(s) = s·R + (1−s)·W, fitted by least squares; the utilization law then
// predicts the capacity at any read share, (CPUs − idle) / d(s), and the
// read share at which a CQRS architecture's capacity crosses crud's.

// shareModel is one architecture's fitted demands.
type shareModel struct {
	name        string
	read, write float64 // CPU seconds per read and per command
	free        float64 // the host's CPUs less its idle work
	ok          bool    // fitted: two read shares or more, both demands > 0
}

// capacity returns the predicted highest rate at read share s.
func (m shareModel) capacity(s float64) float64 {
	return m.free / (s*m.read + (1-s)*m.write)
}

// fitShareModel fits name's demands over sw's points.
func fitShareModel(sw *results.Sweep, name string) shareModel {
	m := shareModel{name: name}
	var xs, ys, free []float64
	for _, p := range sw.Points {
		a, ok := archOf(p.Architectures, name)
		if !ok || a.Cost == nil || a.Cost.Ops == 0 || a.Cost.HostCPUs == 0 || a.Cost.Seconds == 0 {
			continue
		}
		c := a.Cost
		xs = append(xs, p.ReadShare)
		ys = append(ys, c.DemandSeconds())
		free = append(free, float64(c.HostCPUs)-c.IdleCPUs)
	}
	if len(xs) < 2 {
		return m
	}
	// Least squares of d = W + s·(R − W).
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	n := float64(len(xs))
	mx, my = mx/n, my/n
	var sxy, sxx, f float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
		f += free[i]
	}
	if sxx == 0 {
		return m
	}
	slope := sxy / sxx
	m.write = my - slope*mx
	m.read = m.write + slope
	m.free = f / n
	m.ok = m.read > 0 && m.write > 0 && m.free > 0
	return m
}

// shareCrossing returns the read share in [0, 1] at which a's predicted
// capacity crosses crud's, scanning in steps of 0.1 percentage points.
func shareCrossing(a, crud shareModel) (float64, bool) {
	const steps = 1000
	prev := a.capacity(0) - crud.capacity(0)
	for i := 1; i <= steps; i++ {
		s := float64(i) / steps
		d := a.capacity(s) - crud.capacity(s)
		if prev*d < 0 {
			return s, true
		}
		prev = d
	}
	return 0, false
}

// isReadShareSweep reports whether run swept the read share.
func isReadShareSweep(run *results.Run) bool {
	return run.Sweep != nil && run.Sweep.Parameter == string(scenarios.SweepReadShare)
}

// readShareTable writes each architecture's fitted demands, its predicted
// capacity at 0%, 50% and 100% reads, and where it crosses crud's: a
// crossing is confirmed when the verdicts called the capacity worse on one
// side of it and better on the other, else it is the model's alone.
func readShareTable(b *page, run *results.Run) error {
	if !isReadShareSweep(run) {
		return nil
	}
	sw := run.Sweep
	crud := fitShareModel(sw, catalog.Baseline())
	var rows [][]string
	var notes []string
	for _, name := range sweepArchitectures(sw) {
		m := fitShareModel(sw, name)
		if !m.ok {
			rows = append(rows, []string{name, noData, noData, noData, noData, noData, noData})
			continue
		}
		cross := ""
		if name != catalog.Baseline() && crud.ok {
			cross = noData
			if s, ok := shareCrossing(m, crud); ok {
				cross = pct(s)
				notes = append(notes, crossingNote(sw, name, m, crud, s))
			} else if m.capacity(0.5) > crud.capacity(0.5) {
				cross = "above at all"
			} else {
				cross = "below at all"
			}
		}
		rows = append(rows, []string{name, strconv.FormatFloat(m.read*1e6, 'f', 0, 64), strconv.FormatFloat(m.write*1e6, 'f', 0, 64),
			rate(m.capacity(0)), rate(m.capacity(0.5)), rate(m.capacity(1)), cross})
	}
	title := "Capacity by read share (utilization law: CPU µs per read and per command fitted over the\n" +
		"points; predicted highest rate at 0%, 50% and 100% reads; crosses crud's: the read share where\n" +
		"its capacity meets crud's)"
	header := []string{"architecture", "µs/read", "µs/command", "max/s 0%", "max/s 50%", "max/s 100%", "crosses crud's"}
	if err := render(b, table{title, header, rows, "lrrrrrr", nil}); err != nil {
		return err
	}
	for _, n := range notes {
		writeWrapped(b, n, "  - ", "    ", 100)
	}
	return nil
}

// crossingNote says where name's capacity crosses crud's and whether the
// points' own intervals confirm it.
func crossingNote(sw *results.Sweep, name string, m, crud shareModel, s float64) string {
	side := "above"
	if m.capacity(1) < crud.capacity(1) {
		side = "below"
	}
	below, above := "", ""
	for _, p := range sw.Points {
		c := capacityAt(p.Payoff, name)
		if c == nil || c.TooFewSamples || c.Call == results.Same {
			continue
		}
		if p.ReadShare < s {
			below = c.Call
		} else if above == "" {
			above = c.Call
		}
	}
	note := fmt.Sprintf("%s: predicted capacity %s crud's above %s reads", name, side, pct(s))
	if below != "" && above != "" && below != above {
		return note + " (confirmed: the points' intervals call it " + callWord(below) + " below and " + callWord(above) + " above)"
	}
	return note + " (the model's alone: no point on each side has a capacity ratio outside the noise)"
}

// callWord says a capacity call.
func callWord(call string) string {
	if call == results.Better {
		return "higher"
	}
	return "lower"
}

// readShareChart draws each architecture's predicted capacity against the
// read share (the fitted model as a line; each point's own prediction,
// and its measured highest rate when searched, as dots) with each
// crossing with crud's marked.
func readShareChart(run *results.Run) template.HTML {
	if !isReadShareSweep(run) {
		return ""
	}
	sw := run.Sweep
	axis := xAxis{label: "read share", pos: func(s float64) float64 { return s }}
	for _, s := range []float64{0, 0.25, 0.5, 0.75, 1} {
		axis.ticks = append(axis.ticks, tick{s, pct(s)})
	}
	crud := fitShareModel(sw, catalog.Baseline())
	var curves []curve
	for j, name := range sweepArchitectures(sw) {
		color := archColor(name, j)
		m := fitShareModel(sw, name)
		if m.ok {
			model := curve{name: name, color: color}
			for i := 0; i <= 50; i++ {
				s := float64(i) / 50
				model.points = append(model.points, point{s, m.capacity(s)})
			}
			curves = append(curves, model)
			if s, ok := shareCrossing(m, crud); ok && name != catalog.Baseline() && crud.ok {
				axis.marks = append(axis.marks, tick{s, name + " = crud at " + pct(s)})
			}
		}
		predicted := curve{name: name + " (no model)", color: color, dotsOnly: true, unlisted: m.ok}
		measured := curve{name: name + " measured", color: color, dotsOnly: true, hollow: true, unlisted: true}
		for _, p := range sw.Points {
			a, ok := archOf(p.Architectures, name)
			if !ok {
				continue
			}
			if a.Cost != nil && a.Cost.PredictedMaxRate > 0 {
				predicted.points = append(predicted.points, point{p.ReadShare, a.Cost.PredictedMaxRate})
			}
			if a.Capacity != nil && a.Capacity.MeasuredMaxRate > 0 {
				measured.points = append(measured.points, point{p.ReadShare, a.Capacity.MeasuredMaxRate})
			}
		}
		curves = append(curves, predicted)
		if len(measured.points) > 0 {
			curves = append(curves, measured)
		}
	}
	if len(curves) == 0 {
		return ""
	}
	// lineChart escapes every text it holds.
	return template.HTML(lineChart("capacity by read share (line: model; dot: a point's prediction; ring: measured)", axis, "ops/s (log)", curves))
}
