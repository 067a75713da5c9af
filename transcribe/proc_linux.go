package transcribe

import "syscall"

// dieWithParent makes the kernel stop the program when Earshot dies
// without closing the engine (kill -9, a crash).
func dieWithParent(attr *syscall.SysProcAttr) {
	if attr != nil {
		attr.Pdeathsig = syscall.SIGTERM
	}
}
