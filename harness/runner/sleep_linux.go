package runner

import (
	"syscall"
	"time"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// preciseSleep sleeps for d with nanosleep, which the kernel wakes within
// the thread's timer slack, not the Go poller's millisecond. The slack of
// the calling thread is lowered from the default 50µs to 1µs first (a
// per-thread setting; it only makes that thread's sleeps more precise).
func preciseSleep(d time.Duration) {
	if d <= 0 {
		return
	}
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1000, 0)
	for d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		start := time.Now()
		if err := syscall.Nanosleep(&ts, nil); err == nil {
			return
		}
		d -= time.Since(start) // interrupted: sleep the rest
	}
}
