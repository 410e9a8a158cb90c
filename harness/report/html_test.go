package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

func TestHTMLGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := report.HTML(&b, []report.Side{{Path: "results/mixed-20260314T092653Z.json", Run: fixture(t)}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html.golden", b.Bytes())
}

// svgs returns the inline SVG documents of an HTML page, each checked to be
// well-formed XML.
func svgs(t *testing.T, page string) []string {
	t.Helper()
	found := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	for i, s := range found {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			if _, err := d.Token(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("svg %d is not well-formed: %v\n%s", i, err, s)
			}
		}
	}
	return found
}

func TestHTMLChartsEveryOperationAndEscapesText(t *testing.T) {
	t.Parallel()
	run := fixture(t)
	run.Scenario.Name = `<script>alert("x")</script>`
	var b bytes.Buffer
	if err := report.HTML(&b, []report.Side{{Path: "a&b.json", Run: run}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>") || !strings.Contains(page, "a&amp;b.json") {
		t.Fatal("text from the results file reaches the page unescaped")
	}
	charts := svgs(t, page)
	ops := map[string]bool{}
	for _, a := range run.Architectures {
		for _, o := range a.Ops {
			ops[o.Name] = true
		}
	}
	if want := len(ops) + 1; len(charts) != want { // one per operation, one of the lag
		t.Fatalf("%d charts, want %d (one per operation and the lag)", len(charts), want)
	}
	for _, c := range charts[:len(ops)] {
		if n := strings.Count(c, "<path "); n != len(run.Architectures) {
			t.Errorf("an operation chart has %d curves, want one per architecture (%d)", n, len(run.Architectures))
		}
	}
}

// TestHTMLCurveFromHistogram checks a curve drawn from a stored histogram:
// it stops at the highest percentile the samples resolve (99.9% of 1,000)
// and never falls.
func TestHTMLCurveFromHistogram(t *testing.T) {
	t.Parallel()
	h := hist.New()
	for i := int64(1); i <= 1000; i++ {
		_ = h.RecordValue(i * 10)
	}
	snap, err := hist.NewSnapshot(h, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := results.StatsFrom(snap)
	if err != nil {
		t.Fatal(err)
	}
	run := fixture(t)
	run.Architectures = run.Architectures[:1]
	run.Architectures[0].Ops = []results.Op{{Name: "list_orders", Count: 1000, Latency: st}}
	var b bytes.Buffer
	if err := report.HTML(&b, []report.Side{{Path: "r.json", Run: run}}); err != nil {
		t.Fatal(err)
	}
	path := regexp.MustCompile(`<path d="([^"]+)"`).FindStringSubmatch(svgs(t, b.String())[0])
	if path == nil {
		t.Fatal("no curve")
	}
	coords := regexp.MustCompile(`[ML]([\d.]+) ([\d.]+)`).FindAllStringSubmatch(path[1], -1)
	if len(coords) < 20 {
		t.Fatalf("%d points, want the dense percentile set", len(coords))
	}
	lastX, lastY := -1.0, 1e9
	for _, c := range coords {
		x, y := atof(t, c[1]), atof(t, c[2])
		if x <= lastX || y > lastY+0.05 { // SVG y grows downwards
			t.Fatalf("curve not increasing at %s,%s after %v,%v", c[1], c[2], lastX, lastY)
		}
		lastX, lastY = x, y
	}
	// 99.9% sits at 3 of 4 decades of the axis: 56 + 0.75 × 434.
	if lastX > 381.5+0.1 {
		t.Errorf("curve reaches x=%v, beyond 99.9%% (381.5) which 1,000 samples cannot resolve", lastX)
	}
}

func TestSaveHTMLKeepsAnExistingFileUnlessReplacing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	sides := []report.Side{{Path: "r.json", Run: fixture(t)}}
	if err := report.SaveHTML(path, sides, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("SaveHTML over an existing file: %v, want fs.ErrExist", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "mine" {
		t.Fatal("the existing file was changed")
	}
	if err := report.SaveHTML(path, sides, true); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) {
		t.Fatal("replace did not write the report")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory, want only the report (no temporary file left)", len(entries))
	}
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestHTMLTablesAreTables: every table of the text report is an HTML table
// in the page, with its title as the caption, and no ASCII table is left.
func TestHTMLTablesAreTables(t *testing.T) {
	t.Parallel()
	run := fixture(t)
	var text, page bytes.Buffer
	if err := (report.Text{}).Write(&text, run); err != nil {
		t.Fatal(err)
	}
	if err := report.HTML(&page, []report.Side{{Path: "r.json", Run: run}}); err != nil {
		t.Fatal(err)
	}
	ascii := strings.Count(text.String(), "\n+-") / 3 // top, under the header, bottom
	if got := strings.Count(page.String(), "<table>"); ascii == 0 || got != ascii {
		t.Errorf("%d HTML tables, want one per ASCII table of the text report (%d)", got, ascii)
	}
	if strings.Contains(page.String(), "+---") {
		t.Error("the page still holds an ASCII table")
	}
	if !strings.Contains(page.String(), "<caption>Operations completed, warmup excluded") {
		t.Error("a table's title is not its caption")
	}
}
