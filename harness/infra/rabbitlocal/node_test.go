package rabbitlocal_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
)

// shared is the node the tests that need no node of their own share,
// started on first use and closed by TestMain.
var shared infratest.Shared[*rabbitlocal.Node]

// childEnv makes the test binary act as a process that starts a node,
// prints the pids of its beam.smp and epmd, its directory and the pids of
// beam.smp's helpers, and waits to be killed.
const childEnv = "RABBITLOCAL_TEST_CHILD"

func TestMain(m *testing.M) {
	infratest.ServeAsOwner(childEnv, func() ([]any, error) {
		n, err := rabbitlocal.Start(context.Background(), rabbitlocal.Options{})
		if err != nil {
			return nil, err
		}
		var helpers []string
		for _, pid := range childproc.Descendants(n.PID()) {
			helpers = append(helpers, strconv.Itoa(pid))
		}
		return []any{n.PID(), n.EpmdPID(), n.Dir(), strings.Join(helpers, ",")}, nil
	})
	os.Exit(shared.Run(m))
}

// needsRabbit skips the test in -short mode and when RabbitMQ is not
// installed (failing instead in CI).
func needsRabbit(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a RabbitMQ node; skipped in -short mode")
	}
	if _, err := rabbitlocal.FindBinaries(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
}

// sharedNode returns the package's shared node, starting it if needed.
func sharedNode(t *testing.T) *rabbitlocal.Node {
	t.Helper()
	needsRabbit(t)
	n, err := shared.Get(func() (*rabbitlocal.Node, error) {
		return rabbitlocal.Start(context.Background(), rabbitlocal.Options{})
	})
	if err != nil {
		t.Fatalf("start shared node: %v", err)
	}
	return n
}

// startNode starts a node of the test's own, closed at cleanup.
func startNode(t *testing.T) *rabbitlocal.Node {
	t.Helper()
	needsRabbit(t)
	n, err := rabbitlocal.Start(t.Context(), rabbitlocal.Options{Progress: t.Output()})
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

// dial opens an AMQP connection to n, closed at cleanup.
func dial(t *testing.T, n *rabbitlocal.Node) *amqp.Connection {
	t.Helper()
	conn, err := amqp.Dial(n.URL())
	if err != nil {
		t.Fatalf("dial %s: %v", n.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// channel opens a channel on conn.
func channel(t *testing.T, conn *amqp.Connection) *amqp.Channel {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	return ch
}

// declareQuorum declares a durable quorum queue.
func declareQuorum(t *testing.T, ch *amqp.Channel, name string) {
	t.Helper()
	if _, err := ch.QueueDeclare(name, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}); err != nil {
		t.Fatalf("declare quorum queue %s: %v", name, err)
	}
}

// publishConfirmed publishes persistent messages to queue and waits until
// the broker has confirmed every one. A quorum queue may nack a publish
// while it recovers from a restart; like the relay, publishConfirmed sends
// the nacked messages again (logged) until all are acked or 30 s have passed.
func publishConfirmed(t *testing.T, conn *amqp.Connection, queue string, bodies ...string) {
	t.Helper()
	ch := channel(t, conn)
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm mode: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for attempt := 1; len(bodies) > 0; attempt++ {
		pending := make([]*amqp.DeferredConfirmation, len(bodies))
		for i, b := range bodies {
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false,
				amqp.Publishing{DeliveryMode: amqp.Persistent, ContentType: "text/plain", Body: []byte(b)})
			if err != nil {
				t.Fatalf("publish %q: %v", b, err)
			}
			pending[i] = dc
		}
		var nacked []string
		for i, dc := range pending {
			acked, err := dc.WaitContext(ctx)
			if err != nil {
				t.Fatalf("confirm of %q (attempt %d): %v", bodies[i], attempt, err)
			}
			if !acked {
				nacked = append(nacked, bodies[i])
			}
		}
		if len(nacked) > 0 {
			t.Logf("broker nacked %q (attempt %d); publishing again", nacked, attempt)
			select {
			case <-ctx.Done():
				t.Fatalf("broker still nacks %q after %d attempts: %v", nacked, attempt, ctx.Err())
			case <-time.After(100 * time.Millisecond): // back-off between retries
			}
		}
		bodies = nacked
	}
}

// consume receives n deliveries from queue with manual acknowledgement
// (prefetch n), acking them when ack is set, then cancels the consumer and
// closes the channel: closing the connection right after the last ack can
// lose acks on a quorum queue.
func consume(t *testing.T, conn *amqp.Connection, queue string, n int, ack bool) []amqp.Delivery {
	t.Helper()
	ch := channel(t, conn)
	defer ch.Close()
	if err := ch.Qos(n, 0, false); err != nil {
		t.Fatalf("qos: %v", err)
	}
	deliveries, err := ch.ConsumeWithContext(t.Context(), queue, "test", false, false, false, false, nil)
	if err != nil {
		t.Fatalf("consume %s: %v", queue, err)
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	var got []amqp.Delivery
	for len(got) < n {
		select {
		case d, ok := <-deliveries:
			if !ok {
				t.Fatalf("delivery channel closed after %d of %d", len(got), n)
			}
			if ack {
				if err := d.Ack(false); err != nil {
					t.Fatalf("ack: %v", err)
				}
			}
			got = append(got, d)
		case <-timeout.C:
			t.Fatalf("received %d of %d messages in 30 s", len(got), n)
		}
	}
	if err := ch.Cancel("test", false); err != nil {
		t.Fatalf("cancel consumer: %v", err)
	}
	return got
}

// queueDepth returns the number of ready messages in queue.
func queueDepth(t *testing.T, conn *amqp.Connection, queue string) int {
	t.Helper()
	ch := channel(t, conn)
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	if err != nil {
		t.Fatalf("inspect queue %s: %v", queue, err)
	}
	return q.Messages
}

func bodiesOf(ds []amqp.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
	}
	return out
}

func numbered(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

func TestQuorumQueueRoundTripWithConfirmsAndAcks(t *testing.T) {
	n := sharedNode(t)
	conn := dial(t, n)
	const queue = "orders.round-trip"
	declareQuorum(t, channel(t, conn), queue)
	sent := numbered("order-", 100)
	publishConfirmed(t, conn, queue, sent...)
	if got := queueDepth(t, conn, queue); got != len(sent) {
		t.Fatalf("queue holds %d messages after confirms, want %d", got, len(sent))
	}
	got := consume(t, conn, queue, len(sent), true)
	if !slices.Equal(bodiesOf(got), sent) {
		t.Errorf("consumed %v, want %v in order", bodiesOf(got), sent)
	}
	for _, d := range got {
		if d.DeliveryMode != amqp.Persistent || d.Redelivered {
			t.Fatalf("delivery %q: mode %d redelivered %v, want persistent first delivery", d.Body, d.DeliveryMode, d.Redelivered)
		}
	}
	if left := queueDepth(t, conn, queue); left != 0 {
		t.Errorf("queue holds %d messages after every one was acked", left)
	}
}

func TestListensOnlyOnLoopback(t *testing.T) {
	n := sharedNode(t)
	byProcess := map[string][]int{"beam.smp": {n.PID()}, "epmd": {n.EpmdPID()}}
	byProcess["beam.smp helpers"] = childproc.Descendants(n.PID())
	ports := map[string]int{}
	for what, pids := range byProcess {
		for _, pid := range pids {
			addrs, err := infratest.ListenAddrs(pid)
			if err != nil {
				t.Fatalf("listening sockets of %s (pid %d): %v", what, pid, err)
			}
			for _, a := range addrs {
				if !a.Addr().IsLoopback() {
					t.Errorf("%s (pid %d) listens on %v, want loopback only", what, pid, a)
				}
				ports[what]++
			}
			t.Logf("%s (pid %d) listens on %v", what, pid, addrs)
		}
	}
	// beam.smp: AMQP and Erlang distribution; epmd: its port (on 127.0.0.1
	// and, always, ::1).
	if ports["beam.smp"] != 2 || ports["epmd"] == 0 || ports["beam.smp helpers"] != 0 {
		t.Errorf("listening sockets per process %v, want beam.smp 2 (AMQP, distribution), epmd at least 1, helpers none", ports)
	}
	addrs, _ := infratest.ListenAddrs(n.PID())
	if !slices.ContainsFunc(addrs, func(a netip.AddrPort) bool { return a.String() == n.Addr() }) {
		t.Errorf("beam.smp listens on %v, not on Addr() %s", addrs, n.Addr())
	}
}

func TestDescribesWhatItRuns(t *testing.T) {
	n := sharedNode(t)
	if !strings.HasPrefix(n.Version(), "3.") && !strings.HasPrefix(n.Version(), "4.") {
		t.Errorf("Version() = %q, want RabbitMQ 3.x or 4.x", n.Version())
	}
	if !strings.HasPrefix(n.Erlang(), "Erlang/OTP ") {
		t.Errorf("Erlang() = %q, want Erlang/OTP N", n.Erlang())
	}
	if !strings.HasSuffix(n.Name(), "@localhost") {
		t.Errorf("Name() = %q, want NAME@localhost", n.Name())
	}
	s := n.Settings()
	if s["listeners.tcp.1"] != n.Addr() || s["default_user"] != rabbitlocal.DefaultUser {
		t.Errorf("Settings() = %v, want the listener %s and user %s", s, n.Addr(), rabbitlocal.DefaultUser)
	}
	u, err := url.Parse(n.URL())
	if err != nil {
		t.Fatalf("URL() = %q does not parse: %v", n.URL(), err)
	}
	password, _ := u.User.Password()
	for k, v := range s {
		if k == "default_pass" || (password != "" && strings.Contains(v, password)) {
			t.Errorf("Settings() shows the password (%s)", k)
		}
	}
}

func TestStopAndRestartKeepQuorumQueueAndMessages(t *testing.T) {
	n := startNode(t)
	addr := n.Addr()
	const queue = "orders.kept"
	conn := dial(t, n)
	declareQuorum(t, channel(t, conn), queue)
	sent := numbered("m", 10)
	publishConfirmed(t, conn, queue, sent...)
	// Three deliveries stay unacked when the node goes down.
	unacked := consume(t, conn, queue, 3, false)

	before := n.PID()
	began := time.Now()
	if err := n.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped := time.Since(began)
	if !infratest.Gone(before) {
		t.Fatalf("beam.smp %d still runs after Stop", before)
	}
	began = time.Now()
	if err := n.Restart(t.Context()); err != nil {
		t.Fatalf("Restart after Stop: %v", err)
	}
	t.Logf("Stop %v, Restart (to AMQP handshake, queue recovered) %v",
		stopped.Round(10*time.Millisecond), time.Since(began).Round(10*time.Millisecond))
	if n.Addr() != addr || n.PID() == before {
		t.Errorf("after Restart Addr() = %s (want %s), PID() = %d (was %d)", n.Addr(), addr, n.PID(), before)
	}
	conn = dial(t, n)
	if got := queueDepth(t, conn, queue); got != len(sent) {
		t.Fatalf("after Stop and Restart the queue holds %d messages, want %d (7 ready + 3 unacked)", got, len(sent))
	}
	publishConfirmed(t, conn, queue, "after restart")
	conn.Close()

	// A crash: SIGKILL, then recovery from the quorum queue's log.
	before = n.PID()
	if err := n.Kill(t.Context()); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if !infratest.Gone(before) {
		t.Fatalf("beam.smp %d still runs after Kill", before)
	}
	if err := n.Restart(t.Context()); err != nil {
		t.Fatalf("Restart after Kill: %v", err)
	}
	conn = dial(t, n)
	want := append(slices.Clone(sent), "after restart")
	got := consume(t, conn, queue, len(want), true)
	if !slices.Equal(bodiesOf(got), want) {
		t.Fatalf("after Stop, Restart, Kill and Restart consumed %v, want %v", bodiesOf(got), want)
	}
	for i, d := range got {
		if wasUnacked := i < len(unacked); d.Redelivered != wasUnacked {
			t.Errorf("%q redelivered=%v, want %v", d.Body, d.Redelivered, wasUnacked)
		}
	}
}

func TestCloseLeavesNoProcessAndNoFiles(t *testing.T) {
	// Not parallel: it owns TMPDIR.
	needsRabbit(t)
	tmp := infratest.TraversableTempDir(t)
	t.Setenv("TMPDIR", tmp)
	began := time.Now()
	n := startNode(t)
	started := time.Since(began)
	dir := n.Dir()
	if !strings.HasPrefix(dir, tmp) {
		t.Fatalf("Dir() = %s, want a directory under %s", dir, tmp)
	}
	procs := map[int]string{n.PID(): "beam.smp", n.EpmdPID(): "epmd"}
	for _, pid := range childproc.Descendants(n.PID()) {
		procs[pid] = childproc.ProcessName(pid)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for _, name := range procs {
			if !yield(name) {
				return
			}
		}
	})
	if !slices.Contains(names, "erl_child_setup") {
		t.Errorf("node processes %v, want erl_child_setup among them", names)
	}
	for _, pid := range []int{n.PID(), n.EpmdPID()} {
		if !slices.Contains(infratest.ChildPIDs(os.Getpid()), pid) {
			t.Errorf("%s %d is not a child of the test process", procs[pid], pid)
		}
	}
	rss := rssKB(n.PID())
	began = time.Now()
	if err := n.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("start (fresh directory to AMQP handshake) %v, beam.smp RSS %d MiB, Close %v; processes %v",
		started.Round(10*time.Millisecond), rss/1024, time.Since(began).Round(10*time.Millisecond), names)
	for pid, name := range procs {
		if !infratest.Gone(pid) {
			t.Errorf("%s (pid %d) still exists after Close", name, pid)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("TMPDIR holds %v after Close, want nothing", left)
	}
	if err := n.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNodeDiesWithKilledOwnerAndIsSwept(t *testing.T) {
	needsRabbit(t)
	tmp := infratest.TraversableTempDir(t)
	t.Setenv("TMPDIR", tmp) // for the child and for SweepStale below
	var beam, epmd int
	var dir, helpers string
	infratest.KillOwner(t, childEnv, &beam, &epmd, &dir, &helpers)
	procs := []int{beam, epmd}
	for _, h := range strings.Split(helpers, ",") {
		pid, err := strconv.Atoi(h)
		if err != nil {
			t.Fatalf("helper pids %q: %v", helpers, err)
		}
		procs = append(procs, pid)
	}
	for _, pid := range procs {
		infratest.AwaitGone(t, pid, 30*time.Second)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the killed owner's directory %s is already gone (%v): nothing to sweep", dir, err)
	}
	rabbitlocal.SweepStale()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale dir %s survived SweepStale", dir)
	}
}

func TestTwoNodesAtOnce(t *testing.T) {
	a, b := sharedNode(t), startNode(t)
	if a.Addr() == b.Addr() || a.Name() == b.Name() || a.URL() == b.URL() {
		t.Errorf("two nodes share an address, name or URL: %s %s, %s %s", a.Addr(), b.Addr(), a.Name(), b.Name())
	}
	cookieA, errA := os.ReadFile(filepath.Join(a.Dir(), "home", ".erlang.cookie"))
	cookieB, errB := os.ReadFile(filepath.Join(b.Dir(), "home", ".erlang.cookie"))
	if errA != nil || errB != nil || len(cookieA) == 0 || string(cookieA) == string(cookieB) {
		t.Errorf("cookies %q (%v) and %q (%v), want two distinct ones", cookieA, errA, cookieB, errB)
	}
	// Each is a broker of its own: a queue declared on b is not on a.
	connA, connB := dial(t, a), dial(t, b)
	declareQuorum(t, channel(t, connB), "only-on-b")
	publishConfirmed(t, connB, "only-on-b", "x")
	if _, err := channel(t, connA).QueueDeclarePassive("only-on-b", true, false, false, false, nil); err == nil {
		t.Errorf("queue declared on node b exists on node a")
	}
}

func TestMissingServerIsTypedAndSaysWhatToInstall(t *testing.T) {
	t.Parallel()
	_, err := rabbitlocal.Start(t.Context(), rabbitlocal.Options{Server: "/nonexistent/rabbitmq-server"})
	if !errors.Is(err, rabbitlocal.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install rabbitmq-server") {
		t.Errorf("Start with a missing server: %v, want ErrNotInstalled naming apt-get install rabbitmq-server", err)
	}
	// Debian's wrapper switches users and directories: not usable.
	if _, err := os.Stat("/usr/sbin/rabbitmq-server"); err == nil {
		if _, err := rabbitlocal.FindBinaries("/usr/sbin/rabbitmq-server"); !errors.Is(err, rabbitlocal.ErrNotInstalled) {
			t.Errorf("FindBinaries accepts the /usr/sbin wrapper: %v", err)
		}
	}
}

func TestFailedStartShowsLogTailAndLeavesNothing(t *testing.T) {
	needsRabbit(t)
	tmp := infratest.TraversableTempDir(t)
	t.Setenv("TMPDIR", tmp)
	_, err := rabbitlocal.Start(t.Context(), rabbitlocal.Options{Config: map[string]string{"no_such_setting": "1"}})
	if err == nil {
		t.Fatal("Start with an unknown rabbitmq.conf setting succeeded")
	}
	if !strings.Contains(err.Error(), "no_such_setting") {
		t.Errorf("error does not show the node's complaint about no_such_setting:\n%v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("TMPDIR holds %v after a failed Start, want nothing", left)
	}
}

// rssKB returns the resident set size of pid in KiB.
func rssKB(pid int) int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}
