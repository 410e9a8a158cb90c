package runnertest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/runner/runnertest"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestTimer(t *testing.T) {
	t.Parallel()
	clk := runnertest.NewClock(epoch)
	a, b := clk.NewTimer(), clk.NewTimer()
	a.Reset(epoch.Add(2 * time.Second))
	b.Reset(epoch.Add(time.Second))
	if next, ok := clk.Next(); !ok || !next.Equal(epoch.Add(time.Second)) {
		t.Fatalf("Next = %v, %v; want 1s", next, ok)
	}
	clk.Advance(1500 * time.Millisecond)
	select {
	case at := <-b.C():
		if !at.Equal(epoch.Add(time.Second)) {
			t.Errorf("b fired with %v, want its own time", at.Sub(epoch))
		}
	default:
		t.Fatal("b did not fire")
	}
	select {
	case <-a.C():
		t.Fatal("a fired early")
	default:
	}
	if got := clk.Now(); !got.Equal(epoch.Add(1500 * time.Millisecond)) {
		t.Errorf("Now = %v, want 1.5s", got.Sub(epoch))
	}

	// Stop and Reset discard a pending value, as time.Timer does.
	clk.Advance(time.Second)
	a.Reset(epoch.Add(time.Hour))
	select {
	case <-a.C():
		t.Fatal("stale value after Reset")
	default:
	}
	a.Stop()
	clk.Advance(2 * time.Hour)
	select {
	case <-a.C():
		t.Fatal("stopped timer fired")
	default:
	}
	// A time already passed fires at once.
	a.Reset(epoch)
	select {
	case <-a.C():
	default:
		t.Fatal("past time did not fire")
	}
}

func TestDrive(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		var woke []time.Duration
		err := clk.Drive(func() {
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = clk.Sleep(context.Background(), 3*time.Second)
				woke = append(woke, clk.Now().Sub(epoch))
			}()
			_ = clk.Sleep(context.Background(), time.Second)
			woke = append(woke, clk.Now().Sub(epoch))
			<-done
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(woke) != 2 || woke[0] != time.Second || woke[1] != 3*time.Second {
			t.Errorf("woke at %v, want [1s 3s]", woke)
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err = clk.Drive(func() { <-ctx.Done() })
		if !errors.Is(err, runnertest.ErrDeadlock) {
			t.Errorf("Drive on a stuck function: %v, want ErrDeadlock", err)
		}
		cancel()
	})
}
