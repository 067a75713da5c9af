//go:build !unix

package transcribe

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, cancelling it
// kills the program only.
func ownGroup(cmd *exec.Cmd) {}

// newGroup leaves cmd as it is: there are no process groups.
func newGroup(cmd *exec.Cmd) {}

// terminate stops a started program.
func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }

// killGroup kills a started program.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
