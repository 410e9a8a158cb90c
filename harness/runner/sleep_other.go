//go:build !linux

package runner

import "time"

// preciseSleep sleeps for d.
func preciseSleep(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}
