package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

//go:embed report.html.tmpl
var htmlTemplate string

// htmlRun is one results file as the template shows it.
type htmlRun struct {
	ID, Title, Path, Environment, Load string
	Canary                             string // empty without canary rates
	Warning                            string
	Payoff                             *results.Payoff // nil: nothing to judge
	PayoffHeading                      string
	Verdicts                           []string
	Latency                            []template.HTML // one chart per operation
	Lag                                template.HTML   // empty without lag
	Sweep                              []template.HTML // one chart per read; none without a sweep
	PayoffChart                        template.HTML   // capacity by read share; empty without a read-share sweep
	Tables                             template.HTML   // the text report, its tables as HTML tables
}

// HTML writes one self-contained page (inline CSS and SVG, no scripts, no
// network) for the runs: per run its verdicts, a latency-by-percentile
// chart per operation with a line per architecture, a chart of the
// projection lag, and every table of the text report.
func HTML(w io.Writer, runs []Side) error {
	if len(runs) == 0 {
		return errors.New("html report: no run")
	}
	tmpl, err := template.New("report").Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	page := struct{ Runs []htmlRun }{}
	for i, side := range runs {
		r, err := htmlRunOf(i, side)
		if err != nil {
			return err
		}
		page.Runs = append(page.Runs, r)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, page); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

func htmlRunOf(i int, side Side) (htmlRun, error) {
	run := side.Run
	name, load := "run", ""
	if run.Scenario != nil {
		name, load = run.Scenario.Name, describeLoad(run.Scenario)
	}
	r := htmlRun{
		ID:          fmt.Sprintf("run-%d", i+1),
		Title:       name + " — " + run.StartedAt.UTC().Format("2006-01-02 15:04 UTC"),
		Path:        side.Path,
		Environment: environmentLine(run.Environment),
		Canary:      canaryLine(run),
		Load:        load,
		Verdicts:    run.Verdicts,
	}
	if len(r.Verdicts) == 0 {
		r.Verdicts = Verdicts(run)
	}
	if r.Payoff = run.Payoff; r.Payoff == nil {
		r.Payoff = Payoff(run)
	}
	if p := r.Payoff; p != nil {
		r.PayoffHeading = fmt.Sprintf("Does CQRS pay off? p50 and p99 ratios to crud, [%.0f%% intervals] across %s, staleness budget %s",
			p.Confidence*100, plural(int64(p.Rounds), "round", "interleaved rounds"), human(p.StalenessBudgetMs*1000))
	}
	var fakes []string
	for _, s := range run.Environment.Infra.Fakes() {
		fakes = append(fakes, fakeWarning(run, s, "the "+s.Role+" architectures")+".")
	}
	r.Warning = strings.Join(fakes, " ")
	for _, op := range opOrder(run) {
		var curves []curve
		for j, a := range run.Architectures {
			o, ok := a.Op(op)
			if !ok {
				continue
			}
			curves = append(curves, curve{name: a.Name, color: archColor(a.Name, j), points: curveOf(o.Latency)})
		}
		// The SVG escapes every text it holds (percentileChart).
		r.Latency = append(r.Latency, template.HTML(percentileChart(op+": latency from the intended start", curves)))
	}
	var lag []curve
	for j, a := range run.Architectures {
		if a.Lag == nil {
			continue
		}
		for _, st := range a.Lag.Stages {
			if st.Name == "end_to_end" {
				lag = append(lag, curve{name: a.Name + " pipeline", color: archColor(a.Name, j), points: curveOf(st.Stats)})
			}
		}
		lag = append(lag, curve{name: a.Name + " prober", color: archColor(a.Name, j), dashed: true, points: curveOf(a.Lag.Visible)})
	}
	if len(lag) > 0 {
		r.Lag = template.HTML(percentileChart("projection lag: commit until visible", lag))
	}
	r.Sweep = sweepCharts(run)
	r.PayoffChart = readShareChart(run)
	text, err := writePage(run, true)
	if err != nil {
		return htmlRun{}, err
	}
	r.Tables = pageHTML(text)
	return r, nil
}

// pageHTML returns a page written with its tables kept as HTML: the text
// between tables preformatted, each table an HTML table with its title as
// the caption. Every text it holds is escaped.
func pageHTML(p *page) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(p.String(), tableMark) {
		if i%2 == 1 { // a table's index
			if n, err := strconv.Atoi(part); err == nil && n < len(p.tables) {
				tableHTML(&b, p.tables[n])
			}
			continue
		}
		if text := strings.Trim(part, "\n"); text != "" {
			b.WriteString("<pre>" + html.EscapeString(text) + "</pre>\n")
		}
	}
	return template.HTML(b.String())
}

// tableHTML writes t as an HTML table: the title its caption, the header
// in th cells, right-aligned columns with class r.
func tableHTML(b *strings.Builder, t table) {
	b.WriteString("<table>\n<caption>" + html.EscapeString(strings.ReplaceAll(t.title, "\n", " ")) + "</caption>\n<thead><tr>")
	for _, h := range t.header {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, row := range t.rows {
		b.WriteString("<tr>")
		for i, cell := range row {
			class := ""
			if i < len(t.align) && t.align[i] == 'r' {
				class = ` class="r"`
			}
			b.WriteString("<td" + class + ">" + html.EscapeString(cell) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
}

// SaveHTML writes the HTML report of runs to path atomically: to a
// temporary file in the same directory, synced, then moved into place. An
// existing file is replaced only when replace is set; otherwise SaveHTML
// fails with an error wrapping fs.ErrExist.
func SaveHTML(path string, runs []Side, replace bool) error {
	var b bytes.Buffer
	if err := HTML(&b, runs); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".report-*.html.tmp")
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name) // after Rename there is nothing to remove: harmless
	err = errors.Join(writeSynced(tmp, b.Bytes()), tmp.Close())
	if err != nil {
		return fmt.Errorf("html report: write %s: %w", name, err)
	}
	if replace {
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("html report: %w", err)
		}
		return nil
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("html report: %s exists: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// writeSynced writes data to f, makes it readable by all, and syncs it.
func writeSynced(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	return f.Sync()
}
