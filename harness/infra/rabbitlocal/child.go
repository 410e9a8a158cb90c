package rabbitlocal

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

// child is a server process we started: beam.smp or epmd.
type child struct {
	what   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
	err    error         // cmd.Wait's result, set before exited is closed
}

// startChild starts cmd and reaps it in the background.
func startChild(what string, cmd *exec.Cmd) (*child, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", what, err)
	}
	c := &child{what: what, cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// running reports whether the process has not exited yet.
func (c *child) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// exitErr says how the process ended; call it after exited is closed.
func (c *child) exitErr() error {
	if c.err == nil {
		return errors.New("exit status 0")
	}
	return c.err
}

// stop sends SIGTERM, then SIGKILL when the process has not exited after
// grace or when ctx ends, and waits until it and its helpers are gone. It
// returns ctx's error if ctx ended first.
func (c *child) stop(ctx context.Context, grace time.Duration) error {
	if !c.running() {
		return nil // reaped: its pid may name another process now
	}
	helpers := childproc.Descendants(c.pid())
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	var err error
	select {
	case <-c.exited:
	case <-timer.C:
	case <-ctx.Done():
		err = fmt.Errorf("stop %s: %w (killed it)", c.what, ctx.Err())
	}
	c.killWith(helpers)
	return err
}

// kill sends SIGKILL to the process and waits until it and its helpers are
// gone.
func (c *child) kill() {
	if c.running() {
		c.killWith(childproc.Descendants(c.pid()))
	}
}

// killWith sends SIGKILL to the process, waits until it is reaped, then
// waits until helpers — its descendants before it died, which start
// sessions of their own (erl_child_setup, inet_gethost) and exit when
// their pipe to it closes — are gone: those left after a second are
// killed (when their pid still names the same program), and after five
// seconds it stops waiting.
func (c *child) killWith(helpers []int) {
	names := make([]string, len(helpers))
	for i, pid := range helpers {
		names[i] = childproc.ProcessName(pid)
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
	began := time.Now()
	for i, pid := range helpers {
		for childproc.Alive(pid) && childproc.ProcessName(pid) == names[i] && time.Since(began) < 5*time.Second {
			if time.Since(began) > time.Second {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
