//go:build !linux

package pglocal

import "syscall"

// serverProcAttr runs a child as cred in its own process group. Without
// Linux's parent-death signal, a server whose owner is killed with SIGKILL
// survives it; SweepStale removes its directory once it is gone.
func serverProcAttr(cred *syscall.Credential, _ syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
