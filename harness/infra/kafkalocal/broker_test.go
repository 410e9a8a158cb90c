package kafkalocal_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
)

// testHeapMB keeps test brokers small: several may run at once.
const testHeapMB = 384

// shared is the broker the read-only tests of this package share, started on
// first use and closed by TestMain.
var shared infratest.Shared[*kafkalocal.Broker]

// childEnv makes the test binary act as a process that starts a broker,
// prints its pid and directory, and waits to be killed.
const childEnv = "KAFKALOCAL_TEST_CHILD"

func TestMain(m *testing.M) {
	infratest.ServeAsOwner(childEnv, func() ([]any, error) {
		b, err := kafkalocal.Start(context.Background(), kafkalocal.Options{HeapMB: 256})
		if err != nil {
			return nil, err
		}
		return []any{b.PID(), b.Dir()}, nil
	})
	os.Exit(shared.Run(m))
}

// needsBroker skips the test in -short mode and when no distribution or
// java is found (failing instead in CI).
func needsBroker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Kafka broker; skipped in -short mode")
	}
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
}

// sharedBroker returns the package's shared broker, starting it if needed.
func sharedBroker(t *testing.T) *kafkalocal.Broker {
	t.Helper()
	needsBroker(t)
	b, err := shared.Get(func() (*kafkalocal.Broker, error) {
		return kafkalocal.Start(context.Background(), kafkalocal.Options{HeapMB: testHeapMB})
	})
	if errors.Is(err, kafkalocal.ErrNoJava) {
		infratest.Missing(t, "%v (needed to run the broker `make kafka` assembles)", err)
	}
	if err != nil {
		t.Fatalf("start shared broker: %v", err)
	}
	return b
}

// startBroker starts a broker of the test's own, with properties added to
// the defaults, and closes it at cleanup.
func startBroker(t *testing.T, props map[string]string) *kafkalocal.Broker {
	t.Helper()
	needsBroker(t)
	b, err := kafkalocal.Start(t.Context(), kafkalocal.Options{HeapMB: testHeapMB, Properties: props, Progress: t.Output()})
	if errors.Is(err, kafkalocal.ErrNoJava) {
		infratest.Missing(t, "%v (needed to run the broker `make kafka` assembles)", err)
	}
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

// newClient returns a franz-go client of b, closed at cleanup.
func newClient(t *testing.T, b *kafkalocal.Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Brokers()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// createTopic creates a topic with the given number of partitions.
func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(cl).CreateTopic(t.Context(), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produce writes records synchronously.
func produce(t *testing.T, cl *kgo.Client, records ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(t.Context(), records...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consume polls cl until it has n records or the deadline passes.
func consume(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before %v", len(got), n, ctx.Err())
		}
		if err := fetches.Err(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		got = append(got, fetches.Records()...)
	}
	return got
}

func TestRoundTripKeyedRecordsThroughRealBroker(t *testing.T) {
	b := sharedBroker(t)
	const topic, partitions, keys, perKey = "orders", 3, 10, 20
	producer := newClient(t, b)
	createTopic(t, producer, topic, partitions)
	var sent []*kgo.Record
	for i := range perKey {
		for k := range keys {
			sent = append(sent, &kgo.Record{Topic: topic, Key: []byte("order-" + strconv.Itoa(k)), Value: []byte(strconv.Itoa(i))})
		}
	}
	produce(t, producer, sent...)

	consumer := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumerGroup("round-trip"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consume(t, consumer, len(sent))
	if len(got) != len(sent) {
		t.Fatalf("consumed %d records, want %d", len(got), len(sent))
	}
	// Per key: every value, in produce order, all from one partition.
	byKey := map[string][]string{}
	partitionOf := map[string]int32{}
	for _, r := range got {
		k := string(r.Key)
		if p, ok := partitionOf[k]; ok && p != r.Partition {
			t.Errorf("key %s in partitions %d and %d", k, p, r.Partition)
		}
		partitionOf[k] = r.Partition
		byKey[k] = append(byKey[k], string(r.Value))
	}
	for k := range keys {
		key := "order-" + strconv.Itoa(k)
		var want []string
		for i := range perKey {
			want = append(want, strconv.Itoa(i))
		}
		if !slices.Equal(byKey[key], want) {
			t.Errorf("key %s: values %v, want %v", key, byKey[key], want)
		}
	}
	if err := consumer.CommitUncommittedOffsets(t.Context()); err != nil {
		t.Errorf("commit offsets of group: %v", err)
	}
}

func TestDescribesWhatItRuns(t *testing.T) {
	b := sharedBroker(t)
	if got := b.Brokers(); len(got) != 1 || !strings.HasPrefix(got[0], "127.0.0.1:") {
		t.Errorf("Brokers() = %v, want one loopback address", got)
	}
	home, _ := kafkalocal.FindDistribution("")
	cache, _ := kafkalocal.CacheDir()
	if home == cache && b.Version() != kafkalocal.Version {
		t.Errorf("Version() = %q from the cache, want %q", b.Version(), kafkalocal.Version)
	}
	if !strings.HasPrefix(b.Version(), "4.") && !strings.HasPrefix(b.Version(), "5.") {
		t.Errorf("Version() = %q, want Kafka 4.x or later", b.Version())
	}
	s := b.Settings()
	want := map[string]string{"jvm.heap": strconv.Itoa(testHeapMB) + "m", "num.partitions": "1", "process.roles": "broker,controller"}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("Settings()[%q] = %q, want %q", k, s[k], v)
		}
	}
	// What Settings reports is what the broker runs with.
	cfgs, err := kadm.NewClient(newClient(t, b)).DescribeBrokerConfigs(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfgs.On("1", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe broker configs: %v %v", err, rc.Err)
	}
	for _, c := range rc.Configs {
		if v, ok := s[c.Key]; ok && c.Value != nil && *c.Value != v {
			t.Errorf("broker runs with %s=%s, Settings says %s", c.Key, *c.Value, v)
		}
	}
}

func TestCloseLeavesNoProcessAndNoFiles(t *testing.T) {
	// Not parallel: it owns TMPDIR.
	needsBroker(t)
	tmp := infratest.TraversableTempDir(t)
	t.Setenv("TMPDIR", tmp)
	b := startBroker(t, nil)
	pid, dir := b.PID(), b.Dir()
	if pid == 0 || !strings.HasPrefix(dir, tmp) {
		t.Fatalf("PID() = %d, Dir() = %s, want a process and a directory under %s", pid, dir, tmp)
	}
	if !slices.Contains(infratest.ChildPIDs(os.Getpid()), pid) {
		t.Errorf("broker %d is not a child of the test process", pid)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !infratest.Gone(pid) {
		t.Errorf("broker pid %d still exists after Close", pid)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/proc/%d still exists after Close (stat err %v)", pid, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("broker dir %s still exists after Close (stat err %v)", dir, err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("TMPDIR holds %v after Close, want nothing", names)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStopAndRestartKeepDataAndAddress(t *testing.T) {
	// After a crash the restarted broker cannot register until the
	// controller has expired its previous incarnation: shorten that wait
	// from Kafka's 9 s.
	b := startBroker(t, map[string]string{"broker.session.timeout.ms": "3000", "broker.heartbeat.interval.ms": "1000"})
	if got := b.Settings()["broker.session.timeout.ms"]; got != "3000" {
		t.Errorf("Settings() has broker.session.timeout.ms=%q, want the override 3000", got)
	}
	addr := b.Brokers()
	const topic = "kept"
	cl := newClient(t, b)
	createTopic(t, cl, topic, 1)
	produce(t, cl, &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("before stop")})
	cl.Close()

	before := b.PID()
	if err := b.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !infratest.Gone(before) {
		t.Fatalf("broker %d still runs after Stop", before)
	}
	if err := b.Restart(t.Context()); err != nil {
		t.Fatalf("Restart after Stop: %v", err)
	}
	cl = newClient(t, b)
	produce(t, cl, &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("before kill")})
	cl.Close()

	// A crash: SIGKILL, then log recovery on restart.
	before = b.PID()
	if err := b.Kill(t.Context()); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if !infratest.Gone(before) {
		t.Fatalf("broker %d still runs after Kill", before)
	}
	if err := b.Restart(t.Context()); err != nil {
		t.Fatalf("Restart after Kill: %v", err)
	}
	if !slices.Equal(b.Brokers(), addr) {
		t.Errorf("Brokers() = %v after restarts, want %v", b.Brokers(), addr)
	}
	got := consume(t, newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), 2)
	if len(got) != 2 || string(got[0].Value) != "before stop" || string(got[1].Value) != "before kill" {
		var vals []string
		for _, r := range got {
			vals = append(vals, string(r.Value))
		}
		t.Fatalf("after restarts consumed %q, want [before stop before kill]", vals)
	}
}

func TestBrokerDiesWithKilledOwnerAndIsSwept(t *testing.T) {
	needsBroker(t)
	tmp := infratest.TraversableTempDir(t)
	t.Setenv("TMPDIR", tmp) // for the child and for SweepStale below
	var pid int
	var dir string
	infratest.KillOwner(t, childEnv, &pid, &dir)
	infratest.AwaitGone(t, pid, 30*time.Second)
	kafkalocal.SweepStale()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale dir %s survived SweepStale", dir)
	}
}
