//go:build unix

package host

import (
	"os/exec"
	"syscall"
)

// setGroup starts the process in a group of its own, so killGroup also
// stops what it started (a shell script's child, a tool it runs).
func setGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
