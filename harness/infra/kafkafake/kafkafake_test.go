package kafkafake_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/kafkafake"
)

// startFake starts a fake for one test and closes it at cleanup.
func startFake(t *testing.T) *kafkafake.Fake {
	t.Helper()
	f, err := kafkafake.Start(t.Context())
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	return f
}

func TestRoundTripKeyedRecords(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	ctx := t.Context()
	const topic, keys, perKey = "orders", 10, 20
	producer, err := kgo.NewClient(kgo.SeedBrokers(f.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	resp, err := kadm.NewClient(producer).CreateTopic(ctx, 3, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	var sent []*kgo.Record
	for i := range perKey {
		for k := range keys {
			sent = append(sent, &kgo.Record{Topic: topic, Key: []byte("order-" + strconv.Itoa(k)), Value: []byte(strconv.Itoa(i))})
		}
	}
	if err := producer.ProduceSync(ctx, sent...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(f.Brokers()...), kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup("round-trip"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pollCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	byKey := map[string][]string{}
	for n := 0; n < len(sent); {
		fetches := consumer.PollFetches(pollCtx)
		if pollCtx.Err() != nil {
			t.Fatalf("consumed %d of %d records: %v", n, len(sent), pollCtx.Err())
		}
		if err := fetches.Err(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for _, r := range fetches.Records() {
			byKey[string(r.Key)] = append(byKey[string(r.Key)], string(r.Value))
			n++
		}
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
}

func TestListensOnLoopbackAndCloseStopsListening(t *testing.T) {
	t.Parallel()
	f, err := kafkafake.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	brokers := f.Brokers()
	if len(brokers) != 1 || !strings.HasPrefix(brokers[0], "127.0.0.1:") {
		t.Fatalf("Brokers() = %v, want one 127.0.0.1 address", brokers)
	}
	if f.Cluster() == nil {
		t.Fatal("Cluster() = nil")
	}
	conn, err := net.DialTimeout("tcp", brokers[0], time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", brokers[0], err)
	}
	conn.Close()
	if err := f.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", brokers[0], time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Close", brokers[0])
	}
	if err := f.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if f, err := kafkafake.Start(ctx); err == nil {
		_ = f.Close(context.Background())
		t.Fatal("Start with a cancelled context succeeded")
	}
}
