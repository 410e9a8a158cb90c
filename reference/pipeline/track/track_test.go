package track_test

import (
	"context"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/track"
)

// TestWaitForWhatWasPublishedBeforeTheMark: a wait returns once every
// event published up to its mark is handled, whatever was published
// after; a duplicate publication keeps the first one; handled ids nobody
// tracked change nothing.
func TestWaitForWhatWasPublishedBeforeTheMark(t *testing.T) {
	t.Parallel()
	tr := track.New()
	tr.Publishing([]string{"a", "b"})
	tr.Publishing([]string{"b", "c"}) // b keeps publication 1
	mark := tr.Mark()
	tr.Publishing([]string{"d"})
	tr.Handled([]string{"x", "a", "c"})
	if tr.HandledUpTo(mark) {
		t.Fatal("b is pending, yet HandledUpTo says the mark is handled")
	}
	if n := tr.Backlog(); n != 2 {
		t.Fatalf("backlog %d, want 2 (b, d)", n)
	}
	done := make(chan error, 1)
	go func() { done <- tr.Wait(t.Context(), mark, nil, time.Hour) }()
	tr.Handled([]string{"b"}) // d, published after the mark, stays pending
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ready := false
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := tr.Wait(ctx, mark, func() bool { return ready }, time.Hour); err == nil {
		t.Fatal("Wait returned while ready is false")
	}
}
