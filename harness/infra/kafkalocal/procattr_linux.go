package kafkalocal

import "syscall"

// procAttr runs a JVM in its own process group (a terminal's Ctrl-C reaches
// only us, and we stop the broker ourselves) with a parent-death signal, so
// it cannot outlive this process.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
