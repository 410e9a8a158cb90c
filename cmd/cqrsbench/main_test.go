package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// cli runs the command line in-process and returns the exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// needLocalServices skips (or, in CI, fails) a test that needs the local
// PostgreSQL binaries and a Kafka distribution when either is missing, or
// when only short tests run.
func needLocalServices(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL and Kafka")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestUsageErrorsExit2WithAMessage(t *testing.T) {
	t.Setenv("CQRSBENCH_PG_DSN", "")
	t.Setenv("CQRSBENCH_KAFKA_BROKERS", "")
	t.Setenv("CQRSBENCH_KAFKA_PASSWORD", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad flag value", []string{"load", "--orders", "many"}, "invalid value"},
		{"unknown flag", []string{"load", "--colour"}, "flag provided but not defined: -colour"},
		{"bad orders", []string{"load", "--orders", "0"}, "orders"},
		{"stray argument", []string{"load", "extra"}, `unexpected argument "extra"`},
		{"bad provider", []string{"infra", "up", "--infra", "cloud"}, `unknown provider "cloud"`},
		{"unknown infra subcommand", []string{"infra", "down"}, `unknown subcommand "down"`},
		{"bad dsn", []string{"load", "--pg-dsn", "postgres://u@127.0.0.1:notaport/db"}, "--pg-dsn"},
		{"outage on external services", []string{"run", "broker-restart", "--pg-dsn", "postgres://u@127.0.0.1:1/db", "--kafka-brokers", "127.0.0.1:1"}, "only services it started"},
		{"unknown scenario", []string{"run", "nosuch"}, "nosuch"},
		{"bad image", []string{"run", "smoke", "--infra", "docker", "--kafka-image", "apache/kafka 4"}, "--kafka-image"},
		{"two outputs", []string{"run", "smoke", "--json", "--bench"}, "pass one"},
		{"kafka security without external", []string{"run", "smoke", "--infra", "local", "--kafka-tls"}, "only used with --infra external"},
		{"sasl without password", []string{"run", "smoke", "--pg-dsn", "postgres://u@127.0.0.1:1/db", "--kafka-brokers", "127.0.0.1:1", "--kafka-sasl", "plain", "--kafka-user", "u"}, "CQRSBENCH_KAFKA_PASSWORD"},
		{"bad broker", []string{"infra", "up", "--infra", "external", "--pg-dsn", "postgres://u@h/db", "--kafka-brokers", "nohostport"}, "not host:port"},
		{"unknown sweep", []string{"run", "mixed", "--sweep", "page_size=5,50"}, `--sweep: sweep.parameter: unknown "page_size"; use one of orders, orders_per_customer, read_share`},
		{"sweep value not a number", []string{"run", "mixed", "--sweep", "read_share=0.5,x"}, `value "x" is not a number`},
		{"one-point sweep", []string{"run", "mixed", "--sweep", "read_share=0.5"}, "a sweep needs at least 2 values"},
		{"report --text of nothing", []string{"report", "--text"}, "needs at least one results file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d stderr %q, want exit 2 mentioning %q", code, stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("a mistake printed to stdout: %q", stdout)
			}
		})
	}
}

func TestHelpExits0(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"load", "-h"}, {"infra", "up", "-h"}} {
		code, stdout, _ := cli(t, args...)
		if code != exitOK || !strings.Contains(stdout, "Usage") {
			t.Errorf("%v: exit %d stdout %q, want 0 and usage", args, code, stdout)
		}
	}
}

func TestUnreachableServicesExit3WithAFix(t *testing.T) {
	t.Setenv("CQRSBENCH_PG_DSN", "")
	t.Setenv("CQRSBENCH_KAFKA_BROKERS", "")
	code, _, stderr := cli(t, "load", "--quiet", "--pg-dsn", "postgres://u@"+closedAddr(t)+"/db?connect_timeout=3")
	if code != exitInfra || !strings.Contains(stderr, "fix:") {
		t.Fatalf("unreachable postgres: exit %d stderr %q, want 3 with a fix", code, stderr)
	}

	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	pg, err := pglocal.Start(t.Context(), pglocal.Options{Settings: map[string]string{"shared_buffers": "32MB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	code, _, stderr = cli(t, "infra", "up", "--quiet", "--pg-dsn", pg.DSN(), "--kafka-brokers", closedAddr(t))
	if code != exitInfra || !strings.Contains(stderr, "Kafka") || !strings.Contains(stderr, "fix:") {
		t.Fatalf("unreachable broker: exit %d stderr %q, want 3 naming Kafka with a fix", code, stderr)
	}
}

// buildBinary compiles cqrsbench for tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cqrsbench")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestInfraUpLocalPrintsAddressesAndCleansUpOnInterrupt(t *testing.T) {
	needLocalServices(t)
	bin := buildBinary(t)
	tmp := infratest.TraversableTempDir(t)

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "infra", "up", "--infra", "local")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "CQRSBENCH_PG_DSN=", "CQRSBENCH_KAFKA_BROKERS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var got []string
	for len(got) < 2 && lines.Scan() {
		got = append(got, lines.Text())
	}
	if len(got) < 2 {
		_ = cmd.Wait()
		t.Fatalf("infra up printed %q; stderr:\n%s", got, stderr.String())
	}
	ready := time.Since(started)
	dsn, okDSN := strings.CutPrefix(got[0], "CQRSBENCH_PG_DSN=")
	brokers, okBrokers := strings.CutPrefix(got[1], "CQRSBENCH_KAFKA_BROKERS=")
	if !okDSN || !okBrokers {
		t.Fatalf("first two lines %q, want CQRSBENCH_PG_DSN=... and CQRSBENCH_KAFKA_BROKERS=...", got)
	}
	t.Logf("infra up ready in %v: %s %s", ready, dsn, brokers)
	drained := make(chan struct{})
	go func() { // keep draining stdout until the process closes it
		defer close(drained)
		for lines.Scan() {
			t.Log(lines.Text())
		}
	}()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to printed DSN: %v", err)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("ping printed brokers: %v", err)
	}
	cl.Close()

	children := infratest.ChildPIDs(cmd.Process.Pid)
	if len(children) < 2 {
		t.Errorf("infra up has %d child processes %v, want postgres and java", len(children), children)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-drained // Wait closes the pipe: read everything first
	if err := cmd.Wait(); err != nil {
		t.Fatalf("infra up exit after interrupt: %v\nstderr:\n%s", err, stderr.String())
	}
	for _, pid := range children {
		if !infratest.Gone(pid) {
			t.Errorf("process %d survived the interrupt", pid)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d temp entries survived the interrupt, first %s", len(left), left[0].Name())
	}
}

func TestCheckExits1WhenAReadModelDiffers(t *testing.T) {
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	pg, err := pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "64MB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	pool, err := pgxpool.New(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := datagen.Load(ctx, pool, "cqrs_sync", datagen.Config{Orders: 500, Seed: 2}, nil); err != nil {
		t.Fatal(err)
	}
	sys, err := cqrssync.New(pool, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := cli(t, "check", "--pg-dsn", pg.DSN()); code != exitOK || !strings.Contains(stdout, "order_read_model") {
		t.Fatalf("clean: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM cqrs_sync.order_read_model WHERE order_id = 7`); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "check", "--pg-dsn", pg.DSN())
	if code != exitFailed || !strings.Contains(stdout, "lost 1") || !strings.Contains(stdout, "DIFFERS") {
		t.Fatalf("after losing a row: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestRunExits1OnTheNegativeControls runs the two negative controls of the
// fault scenarios — duplicates without the inbox, and a visibility gap
// under the naive-cursor relay — and checks that run reports the damage of
// each and exits 1.
func TestRunExits1OnTheNegativeControls(t *testing.T) {
	needLocalServices(t)
	dir := t.TempDir()
	const common = `
dataset: {orders: 2000}
architectures: [cqrs-kafka]
mix: {create_order: 40, add_line: 20, confirm_order: 15, ship_order: 10, cancel_order: 5, list_orders: 10}
load: {rate: 300, warmup: 1s, duration: 5s}
`
	files := map[string]string{
		"no-inbox.yaml": "name: no-inbox" + common + `
options: {cqrs-kafka: {inbox: false}}
faults: [{kind: duplicates, fraction: 30%}]
`,
		"naive-gap.yaml": "name: naive-gap" + common + `
options: {cqrs-kafka: {relay: naive-cursor, relays: 1}}
faults: [{kind: visibility-gap, at: 1s, every: 2s, duration: 500ms}]
`,
	}
	var args []string
	for name, doc := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	args = append(args, "--infra", "local", "--quiet", "--out", filepath.Join(dir, "results"))
	code, stdout, stderr := cli(t, append([]string{"run"}, args...)...)
	t.Logf("stderr:\n%s", stderr)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	for _, want := range []string{
		"scenario no-inbox: cqrs-kafka: the checker found",
		"scenario naive-gap: cqrs-kafka: the checker found",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if !regexp.MustCompile(`no-inbox: .* [1-9][0-9]* applied twice`).MatchString(stderr) {
		t.Errorf("no-inbox: duplicates applied twice not reported")
	}
	if !regexp.MustCompile(`naive-gap: .*; [1-9][0-9]* events lost`).MatchString(stderr) {
		t.Errorf("naive-gap: lost events not reported")
	}
}

// TestRunOverTLSAndSASL runs cqrs-kafka end to end against a broker whose
// client listener requires TLS and SCRAM, as a managed Kafka service does:
// every Kafka client of the run (relay, projector, admin) must use the
// --kafka-* settings, and the result records them without the password.
func TestRunOverTLSAndSASL(t *testing.T) {
	needLocalServices(t)
	ctx := t.Context()
	pg, err := pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close(context.Background()) })
	cert := infratest.SelfSignedCert(t)
	broker, err := kafkalocal.Start(ctx, kafkalocal.Options{HeapMB: 512, Secure: &kafkalocal.SecureListener{
		CertPEM: cert.CertPEM, KeyPEM: cert.KeyPEM, Users: map[string]string{"bench": "s3cret-pw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = broker.Close(context.Background()) })
	t.Setenv("CQRSBENCH_KAFKA_PASSWORD", "s3cret-pw")

	out := filepath.Join(t.TempDir(), "results")
	code, stdout, stderr := cli(t, "run", "smoke", "--arch", "cqrs-kafka", "--duration", "3s", "--quiet", "--out", out,
		"--pg-dsn", pg.DSN(), "--kafka-brokers", strings.Join(broker.SecureBrokers(), ","),
		"--kafka-ca", cert.CAFile, "--kafka-sasl", "scram-sha-512", "--kafka-user", "bench")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`\| end_to_end +\| +[1-9]`).MatchString(stdout) {
		t.Errorf("no events went through the pipeline (no end_to_end lag samples):\n%s", stdout)
	}
	if !strings.Contains(stdout, "· kafka v4.1 over SASL_SSL SCRAM-SHA-512 user bench ·") {
		t.Errorf("the environment line does not say how Kafka was reached:\n%s", stdout)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 1 {
		t.Fatalf("results files %v, want one", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"security": "SASL_SSL SCRAM-SHA-512 user bench"`)) || bytes.Contains(data, []byte("s3cret-pw")) {
		t.Errorf("results file does not record the security settings, or records the password")
	}
}

// TestRunSmokeOnDocker runs the smoke scenario, every architecture, on the
// docker provider: PostgreSQL and Kafka containers of the images
// --pg-image and --kafka-image default to ($CQRSBENCH_PG_IMAGE and
// $CQRSBENCH_KAFKA_IMAGE, which CI points at the images `make
// docker-images` builds). Exit 0 means every threshold held and the
// checker found every read model equal to its write model; the results
// file records the provider and the images, and no container is left.
func TestRunSmokeOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers")
	}
	if err := dockerenv.Healthy(t.Context()); err != nil {
		infratest.Missing(t, "Docker engine not available (`make docker-images` starts one and builds local images): %v", err)
	}
	before, err := dockerenv.Containers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "results")
	began := time.Now()
	code, stdout, stderr := cli(t, "run", "smoke", "--infra", "docker", "--quiet", "--out", out)
	t.Logf("run smoke --infra docker: exit %d in %s\n%s", code, time.Since(began).Round(time.Second), stdout)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 1 {
		t.Fatalf("results files %v, want one", files)
	}
	res, err := results.Read(files[0])
	if err != nil {
		t.Fatal(err)
	}
	d := res.Environment.Infra
	pg, _ := d.Find(services.RolePostgres)
	kafka, _ := d.Find(services.RoleKafka)
	if d.Provider != infra.ProviderDocker || kafka.Kind != services.KindContainer || kafka.Product != services.ProductApacheKafka {
		t.Errorf("results say provider %q, Kafka %+v; want docker, an Apache Kafka container", d.Provider, kafka)
	}
	wantPG := cmp.Or(os.Getenv("CQRSBENCH_PG_IMAGE"), dockerenv.DefaultPostgresImage)
	wantKafka := cmp.Or(os.Getenv("CQRSBENCH_KAFKA_IMAGE"), dockerenv.DefaultKafkaImage)
	if pg.Image != wantPG || kafka.Image != wantKafka {
		t.Errorf("results record images %q and %q, want %q and %q", pg.Image, kafka.Image, wantPG, wantKafka)
	}
	if want := scenarios.DefaultArchitectures(catalog.DefaultWorkload()); len(res.Architectures) != len(want) {
		t.Errorf("results hold %d architectures, want the smoke scenario's %d (every one run by default: %v)", len(res.Architectures), len(want), want)
	}
	for _, th := range res.Thresholds {
		if !th.Passed {
			t.Errorf("threshold %+v failed", th)
		}
	}
	if after, err := dockerenv.Containers(t.Context()); err != nil || !slices.Equal(after, before) {
		t.Errorf("this process's containers: %v before the run, %v after (%v)", before, after, err)
	}
}

// TestRunSmokeOnAPack runs the smoke scenario on the shipped helpdesk pack:
// every architecture that runs packs drives the pack's commands and screens
// and ends with its read models equal to their projections; the results
// name the pack's operations and read models.
func TestRunSmokeOnAPack(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL, Kafka and RabbitMQ")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "cqrs-kafka runs packs: run `make kafka` (needs java and mvn): %v", err)
	}
	if _, err := rabbitlocal.FindBinaries(""); err != nil {
		infratest.Missing(t, "cqrs-rabbitmq runs packs: %v", err)
	}
	run := runSmokeOnPack(t, "../../workloads/helpdesk", 2)
	var ops []string
	for _, op := range run.Operations {
		ops = append(ops, op.Name)
	}
	if !slices.Contains(ops, "my_tickets") || !slices.Contains(ops, "open_ticket") {
		t.Errorf("results name the operations %v, want the pack's", ops)
	}
}

// runSmokeOnPack runs the smoke scenario on the pack in dir and checks that
// every architecture that runs packs ran every operation and ended with
// its read models (readModels of them) equal to their projections.
func runSmokeOnPack(t *testing.T, dir string, readModels int) results.Run {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results")
	code, stdout, stderr := cli(t, "run", "smoke", "--workload", dir, "--infra", "local", "--quiet", "--json", "--out", out)
	if code != 0 {
		t.Fatalf("run smoke --workload %s: exit %d\nstderr:\n%s", dir, code, stderr)
	}
	var run results.Run
	if err := json.Unmarshal([]byte(stdout), &run); err != nil {
		t.Fatalf("results JSON: %v", err)
	}
	var ran []string
	for _, a := range run.Architectures {
		ran = append(ran, a.Name)
		if a.Consistency == nil || a.Consistency.Violations != 0 {
			t.Errorf("%s: consistency %+v, want a clean check", a.Name, a.Consistency)
		}
		for _, op := range a.Ops {
			if op.Count == 0 {
				t.Errorf("%s: %s never ran", a.Name, op.Name)
			}
		}
		if a.Name != catalog.Baseline() && (a.Consistency == nil || len(a.Consistency.Tables) != readModels) {
			t.Errorf("%s: reconciled %+v, want the pack's %d read models", a.Name, a.Consistency, readModels)
		}
	}
	if want := []string{"crud", "cqrs-sync", "cqrs-matview", "cqrs-kafka", "cqrs-rabbitmq"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v, want the architectures that run packs, %v", ran, want)
	}
	return run
}

// TestRunExits1WhenAPackMissesAKey is the checker's negative control on a
// pack: a copy of the helpdesk whose assign_ticket no longer returns the
// ticket's old team and priority, so cqrs-sync never recomputes the backlog
// row the ticket left. The checker must find the stale rows and run exit 1;
// the same scenario on the unchanged copy exits 0.
func TestRunExits1WhenAPackMissesAKey(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	dir := t.TempDir()
	pack := filepath.Join(dir, "helpdesk")
	if err := os.CopyFS(pack, os.DirFS("../../workloads/helpdesk")); err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(dir, "assign.yaml")
	if err := os.WriteFile(scenario, []byte(`name: assign
workload: helpdesk
dataset: {orders: 4000}
architectures: [cqrs-sync]
mix: {assign_ticket: 10, team_backlog: 1}
load: {rate: 100, warmup: 1s, duration: 3s}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() (int, string, string) {
		return cli(t, "run", scenario, "--infra", "local", "--quiet", "--out", filepath.Join(dir, "results"))
	}
	if code, _, stderr := run(); code != 0 {
		t.Fatalf("the unchanged pack: exit %d, want 0\n%s", code, stderr)
	}
	yamlPath := filepath.Join(pack, "workload.yaml")
	doc, err := os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	const oldKey = "SELECT team_id, priority FROM tickets"
	if !bytes.Contains(doc, []byte(oldKey)) {
		t.Fatalf("workloads/helpdesk/workload.yaml has no %q to break; update this test", oldKey)
	}
	doc = bytes.Replace(doc, []byte(oldKey), []byte("SELECT id FROM tickets"), 1)
	if err := os.WriteFile(yamlPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run()
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`scenario assign: cqrs-sync: the checker found [1-9][0-9]* violations`).MatchString(stderr) {
		t.Errorf("stderr does not report the checker's violations:\n%s", stderr)
	}
}

// cancelOn is a writer that cancels when what was written so far
// contains mark.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.mark) {
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestInterruptKeepsFinishedArchitectures interrupts a run as its second
// architecture starts loading: it exits 130 and writes a results file
// marked interrupted holding the first architecture, measured.
func TestInterruptKeepsFinishedArchitectures(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &cancelOn{mark: "cqrs-sync: loading", cancel: cancel}
	out := filepath.Join(t.TempDir(), "results")
	var stdout bytes.Buffer
	code := run(ctx, []string{"run", "smoke", "--arch", "crud,cqrs-sync", "--infra", "local", "--json", "--out", out}, &stdout, stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr.String(), "results of the 1 architectures that finished before the interrupt: ") {
		t.Errorf("stderr does not name the results file of the finished architecture:\n%s", stderr)
	}
	files, err := filepath.Glob(filepath.Join(out, "smoke-*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("results files %v (%v), want one", files, err)
	}
	run, err := results.Read(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !run.Interrupted || len(run.Architectures) != 1 || run.Architectures[0].Name != "crud" {
		t.Fatalf("results: interrupted %v, architectures %d, want interrupted with crud alone", run.Interrupted, len(run.Architectures))
	}
	if op, ok := run.Architectures[0].Op("list_orders"); !ok || op.Latency.Count == 0 {
		t.Errorf("crud's list_orders has no measurements in the kept results")
	}
	if len(run.Thresholds) != 0 {
		t.Errorf("an interrupted run evaluated %d thresholds", len(run.Thresholds))
	}
}
