//go:build !linux

package transcribe

import "syscall"

// dieWithParent does nothing where the kernel cannot stop a child with its
// parent: Close stops it.
func dieWithParent(*syscall.SysProcAttr) {}
