//go:build unix

package interop

import (
	"os/exec"
	"syscall"
)

// newProcessGroupAttr puts the server in its own process group so that the
// whole group (the JVM and anything it spawns) can be signalled at once.
func newProcessGroupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends SIGTERM (or SIGKILL if kill) to cmd's process group.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	// The group id equals the leader's pid (Setpgid with Pgid 0).
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
