//go:build !unix

package transcribe

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, cancelling it
// kills the program only.
func ownGroup(cmd *exec.Cmd) {}
