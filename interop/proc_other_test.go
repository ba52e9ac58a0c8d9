//go:build !unix

package interop

import (
	"os/exec"
	"syscall"
)

func newProcessGroupAttr() *syscall.SysProcAttr { return nil }

// signalGroup kills the process itself; process groups are a unix notion.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
