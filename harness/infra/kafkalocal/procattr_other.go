//go:build !linux

package kafkalocal

import "syscall"

// procAttr runs a JVM in its own process group. Without Linux's
// parent-death signal, a broker whose owner is killed with SIGKILL survives
// it; SweepStale removes its directory once it is gone.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
