package report_test

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/report"
)

// chromium runs headless Chromium on page with args (a fresh profile, no
// network of its own) and returns its stdout and every console message it
// logged.
func chromium(t *testing.T, page string, args ...string) (stdout string, console []string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		infratest.Missing(t, "no chromium to open the HTML report in: apt-get install chromium")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, append(args, "file://"+page)...)...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errs.String())
	}
	for _, line := range strings.Split(errs.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return out.String(), console
}

// TestHTMLReportInChromium opens a report of three runs (the default
// suite's tables and charts, a sweep, a read-share sweep with its payoff
// chart) in headless Chromium: the page parses with every chart and
// table, renders to a screenshot that is not blank, and logs nothing to
// the console. A page that does log is caught, so the check is live.
func TestHTMLReportInChromium(t *testing.T) {
	infratest.SkipShort(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	sides := []report.Side{{Path: "mixed.json", Run: fixture(t)}, {Path: "sweep.json", Run: sweepRun()}, {Path: "rs.json", Run: readShareRun()}}
	if err := report.SaveHTML(path, sides, false); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	dom, console := chromium(t, path, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("the console logged:\n%s", strings.Join(console, "\n"))
	}
	for _, tag := range []string{"<svg ", "<table>", "<circle "} {
		want := strings.Count(string(src), tag)
		if got := strings.Count(dom, tag); want == 0 || got != want {
			t.Errorf("%d %s elements in the rendered page, want the file's %d", got, tag, want)
		}
	}
	for _, title := range []string{"capacity by read share (line: model", "list_orders p99 against orders_per_customer", "list_orders: latency from the intended start"} {
		if !strings.Contains(dom, title) {
			t.Errorf("the rendered page has no chart %q", title)
		}
	}

	shot := filepath.Join(dir, "report.png")
	chromium(t, path, "--screenshot="+shot, "--window-size=1200,2400", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colors := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colors) < 20 {
		t.Errorf("the screenshot has %d colors: nothing rendered", len(colors))
	}

	// The same check on a page that logs must see it.
	bad := filepath.Join(dir, "bad.html")
	logging := regexp.MustCompile(`</body>`).ReplaceAllString(string(src), `<script>console.error("canary")</script></body>`)
	if err := os.WriteFile(bad, []byte(logging), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, console := chromium(t, bad, "--dump-dom"); len(console) == 0 {
		t.Error("a page that logs to the console was not caught: the console check is dead")
	}
}
