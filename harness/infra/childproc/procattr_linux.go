package childproc

import "syscall"

// Attr runs a server as cred (nil: as this process) in its own process
// group — a terminal's Ctrl-C reaches only cqrsbench, which stops servers in
// order — with onParentDeath sent to it if cqrsbench dies, so it cannot
// outlive it.
func Attr(cred *syscall.Credential, onParentDeath syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: onParentDeath, Setpgid: true}
}
