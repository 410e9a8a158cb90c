package pglocal

import "syscall"

// serverProcAttr runs a child as cred in its own process group (a terminal's
// Ctrl-C reaches only us, and we stop servers in order) with a parent-death
// signal, so it cannot outlive this process.
func serverProcAttr(cred *syscall.Credential, onParentDeath syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: onParentDeath, Setpgid: true}
}
