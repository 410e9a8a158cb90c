package rabbitmq_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

// TestBrokerRestartLosesNothing restarts the broker while a publisher and
// the consumers work: both recover without help and every message is
// accepted (duplicates only redelivered).
func TestBrokerRestartLosesNothing(t *testing.T) {
	// Not parallel: the other tests would see the restart.
	cfg := testConfig(t)
	if !canRestart() {
		t.Skipf("set %s to a command that restarts the broker of %s", restartEnv, urlEnv)
	}
	const n = 20_000
	p := newPublisher(t, cfg)
	rec := newRecorder()
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		rec.accept(batch, nil)
		return nil, nil
	})
	all := msgs(n)
	var wg sync.WaitGroup
	wg.Go(func() { publishAll(t, p, all[:n/2], 100, 2) })
	rec.waitDistinct(t, 1000, time.Minute)
	restartBroker(t)
	wg.Wait()
	publishAll(t, p, all[n/2:], 100, 2)
	rec.waitDistinct(t, n, 2*time.Minute)
	pc, cc := p.Counters(), c.Counters()
	dups := rec.check(t, n, nil, pc.Published-pc.Confirmed)
	t.Logf("publisher %+v; consumer %+v; %d ids accepted twice", pc, cc, dups)
	if pc.Reconnects < 1 || cc.Reconnects < int64(c.Config().Workers) {
		t.Errorf("reconnects: publisher %d, consumer %d; want >= 1 and >= %d", pc.Reconnects, cc.Reconnects, c.Config().Workers)
	}
}
