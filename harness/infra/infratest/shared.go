package infratest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Shared is a server the tests of a package share: the first test that
// asks starts it, and TestMain closes it after the tests (Run). The zero
// value is ready to use.
type Shared[S interface{ Close(context.Context) error }] struct {
	once    sync.Once
	server  S
	err     error
	started bool
}

// Get returns the server, starting it with start on the first call; every
// caller gets that start's error.
func (s *Shared[S]) Get(start func() (S, error)) (S, error) {
	s.once.Do(func() {
		s.server, s.err = start()
		s.started = s.err == nil
	})
	return s.server, s.err
}

// Run runs the tests, then closes the server if one was started, and
// returns the exit code: os.Exit(shared.Run(m)) in TestMain.
func (s *Shared[S]) Run(m *testing.M) int {
	code := m.Run()
	if err := s.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "close the shared server:", err)
		code = 1
	}
	return code
}

// Close closes the server if one was started: for a TestMain whose tests
// share several servers (one Run, the others closed after it).
func (s *Shared[S]) Close(ctx context.Context) error {
	if !s.started {
		return nil
	}
	s.started = false
	return s.server.Close(ctx)
}
