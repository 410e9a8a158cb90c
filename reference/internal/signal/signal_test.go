package signal_test

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
)

func TestBroadcastWakesEveryWaiterOnce(t *testing.T) {
	t.Parallel()
	var b signal.Broadcast
	c1, c2 := b.C(), b.C()
	select {
	case <-c1:
		t.Fatal("closed before Notify")
	default:
	}
	b.Notify()
	<-c1
	<-c2
	c3 := b.C()
	select {
	case <-c3:
		t.Fatal("a channel taken after Notify is already closed")
	default:
	}
	b.Notify()
	b.Notify() // no waiter: no panic
	<-c3
}
