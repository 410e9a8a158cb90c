//go:build !linux

package childproc

import "syscall"

// Attr runs a server as cred in its own process group. Without Linux's
// parent-death signal, a server whose owner is killed with SIGKILL survives
// it; Sweep removes its directory once it is gone.
func Attr(cred *syscall.Credential, _ syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
