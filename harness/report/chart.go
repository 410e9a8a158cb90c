package report

import (
	"slices"

	"fmt"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

// A latency-by-percentile chart, as HdrHistogram's plotter and wrk2 draw
// them: the x axis is the percentile on a log scale of 1/(1-p), so the
// tail (99%, 99.9%, 99.99%) gets as much room as the body; the y axis is
// the latency in ms, also on a log scale.

// Chart geometry, in SVG user units.
const (
	chartWidth   = 640
	chartHeight  = 300
	chartLeft    = 56 // room for the y labels
	chartRight   = 150
	chartTop     = 28
	chartBottom  = 40
	maxNines     = 4 // the x axis ends at 99.99%
	legendRowGap = 16
)

// curvePercentiles are the percentiles a curve is drawn through when a
// histogram is stored: dense in the body, then every step of the tail.
func curvePercentiles() []float64 {
	ps := []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25, 99.5, 99.6, 99.7, 99.75, 99.8, 99.85, 99.9}
	return append(ps, 99.925, 99.95, 99.96, 99.97, 99.975, 99.98, 99.985, 99.99)
}

// curve is one line of a chart.
type curve struct {
	name   string
	color  string
	dashed bool
	points []point // x ascending
	// dots draws a dot at each point; dotsOnly draws no line between them;
	// hollow draws the dots as rings; unlisted leaves the curve out of the
	// legend (the title says what it is).
	dots, dotsOnly, hollow, unlisted bool
}

// point is a point of a curve: x (a percentile, 0–100, or a swept
// parameter's value) and y in the chart's unit (ms for latencies).
type point struct{ x, y float64 }

// curveOf returns the percentile curve of s: from its histogram when one
// is stored, else through the summary (min, p50, p90, p99, p99.9). Points
// beyond what the samples can show (a p99.9 of 500 samples) are left out.
func curveOf(s results.Stats) []point {
	if s.Count == 0 {
		return nil
	}
	// The highest percentile n samples resolve: 1 - 1/n.
	top := 100 * (1 - 1/float64(s.Count))
	var pts []point
	if snap, err := s.Snapshot(); err == nil && s.Histogram != "" {
		for _, p := range curvePercentiles() {
			if p > top && p > 0 {
				break
			}
			pts = append(pts, point{p, float64(snap.Percentile(p).Microseconds()) / 1000})
		}
		return pts
	}
	for _, p := range []point{{0, s.Min}, {50, s.P50}, {90, s.P90}, {99, s.P99}, {99.9, s.P999}} {
		if p.x <= top || p.x == 0 {
			pts = append(pts, point{p.x, p.y / 1000})
		}
	}
	return pts
}

// xOf maps a percentile to its position on the log axis, 0 to maxNines.
func xOf(pct float64) float64 {
	if pct >= 100 {
		return maxNines
	}
	return math.Min(maxNines, math.Log10(100/(100-pct)))
}

// percentileChart draws curves as an inline SVG with a title, axes and a
// legend. Both axes are logarithmic: the x axis to give the tail room, the
// y axis because architectures differ by orders of magnitude (a flat read
// in 0.2 ms, a join in 3 ms, a refresh-bound view in 10 s) and a linear
// axis would flatten all but the slowest. Curves without points are listed
// in the legend as "no data".
func percentileChart(title string, curves []curve) string {
	x := xAxis{label: "percentile", pos: func(pct float64) float64 { return xOf(pct) / maxNines }}
	for nines := 0; nines <= maxNines; nines++ {
		pct := 100 - 100/math.Pow(10, float64(nines))
		x.ticks = append(x.ticks, tick{pct, strconv.FormatFloat(pct, 'f', -1, 64) + "%"})
	}
	return lineChart(title, x, "ms (log)", curves)
}

// xAxis is a chart's x axis: its label, where a value goes (0 at the left
// of the plot, 1 at the right), its ticks, and marks: values drawn as
// labelled vertical lines across the plot (a crossover).
type xAxis struct {
	label string
	pos   func(x float64) float64
	ticks []tick
	marks []tick
}

// tick is a labelled value on an axis.
type tick struct {
	x     float64
	label string
}

// lineChart draws curves (x by the axis, y on a log scale of whole
// decades around the data, labelled yLabel) as an inline SVG with a title
// and a legend. Every text it holds is escaped.
func lineChart(title string, x xAxis, yLabel string, curves []curve) string {
	lo, hi := math.Inf(1), 0.0
	for _, c := range curves {
		for _, p := range c.points {
			if p.y > 0 {
				lo, hi = math.Min(lo, p.y), math.Max(hi, p.y)
			}
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 1
	}
	// Whole decades around the data.
	dLo, dHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dHi == dLo {
		dHi++
	}
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	sx := func(v float64) float64 { return chartLeft + x.pos(v)*plotW }
	sy := func(y float64) float64 {
		d := dLo
		if y > 0 {
			d = math.Max(dLo, math.Log10(y))
		}
		return chartTop + plotH - (d-dLo)/(dHi-dLo)*plotH
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartWidth, chartHeight, chartWidth, chartHeight, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="16" class="title">%s</text>`, chartLeft, html.EscapeString(title))
	mantissas := []float64{1, 2, 5}
	if dHi-dLo > 3 { // decades only, or the labels collide
		mantissas = mantissas[:1]
	}
	for d := dLo; d <= dHi; d++ {
		for _, m := range mantissas {
			v := m * math.Pow(10, d)
			if d == dHi && m > 1 {
				break
			}
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, chartLeft, sy(v), chartLeft+plotW, sy(v))
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="ylabel">%s</text>`, chartLeft-6, sy(v)+4, tickLabel(v))
		}
	}
	for _, t := range x.ticks {
		at := sx(t.x)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" class="grid"/>`, at, chartTop, at, chartTop+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="xlabel">%s</text>`, at, chartTop+plotH+16, html.EscapeString(t.label))
	}
	for i, m := range x.marks {
		at := sx(m.x)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" class="mark" stroke-dasharray="3 3"/>`, at, chartTop, at, chartTop+plotH)
		// Labels step down the plot, and right of the middle end at their
		// line, so neither overlap each other nor leave the plot.
		lx, anchor := at+3, "start"
		if x.pos(m.x) > 0.5 {
			lx, anchor = at-3, "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="mark" text-anchor="%s">%s</text>`, lx, chartTop+10+12*i, anchor, html.EscapeString(m.label))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="xlabel">%s</text>`, chartLeft+plotW/2, chartHeight-4, html.EscapeString(x.label))
	fmt.Fprintf(&b, `<text x="12" y="%.1f" class="ylabel" transform="rotate(-90 12 %.1f)">%s</text>`, chartTop+plotH/2, chartTop+plotH/2, html.EscapeString(yLabel))
	row := 0
	for _, c := range curves {
		if len(c.points) > 0 && !c.dotsOnly {
			var path strings.Builder
			for j, p := range c.points {
				cmd := "L"
				if j == 0 {
					cmd = "M"
				}
				fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, sx(p.x), sy(p.y))
			}
			fmt.Fprintf(&b, `<path d="%s" stroke="%s"%s fill="none" class="curve"><title>%s</title></path>`,
				strings.TrimSpace(path.String()), c.color, dash(c), html.EscapeString(c.name))
		}
		for _, p := range c.points {
			if !c.dots && !c.dotsOnly {
				break
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" %s><title>%s: %.3g</title></circle>`,
				sx(p.x), sy(p.y), dotStyle(c), html.EscapeString(c.name), p.y)
		}
		if c.unlisted {
			continue
		}
		ly := chartTop + 8 + row*legendRowGap
		row++
		lx := chartWidth - chartRight + 14
		label := c.name
		if len(c.points) == 0 {
			label += " (no data)"
		}
		if c.dotsOnly {
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="3" %s/>`, lx+9, ly, dotStyle(c))
		} else {
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"%s class="curve"/>`, lx, ly, lx+18, ly, c.color, dash(c))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="legend">%s</text>`, lx+24, ly+4, html.EscapeString(label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// dotStyle returns the fill and stroke attributes of c's dots.
func dotStyle(c curve) string {
	if c.hollow {
		return fmt.Sprintf(`fill="#fff" stroke="%s" stroke-width="1.5"`, c.color)
	}
	return fmt.Sprintf(`fill="%s"`, c.color)
}

// dash returns the stroke-dasharray attribute of a dashed curve.
func dash(c curve) string {
	if c.dashed {
		return ` stroke-dasharray="6 3"`
	}
	return ""
}

// tickLabel formats a tick value in ms: 0.01, 0.2, 5, 100, 20000.
func tickLabel(ms float64) string {
	decimals := max(0, int(-math.Floor(math.Log10(ms)+1e-9)))
	return strconv.FormatFloat(ms, 'f', decimals, 64)
}

// archColor returns a fixed color per architecture (by its place in the
// architecture table), so one architecture looks the same in every chart;
// a name the table lacks takes a color by its place i in the run.
func archColor(name string, i int) string {
	palette := []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}
	if at := slices.Index(catalog.Names(), name); at >= 0 {
		return palette[at%len(palette)]
	}
	return palette[(len(catalog.Names())+i)%len(palette)]
}
