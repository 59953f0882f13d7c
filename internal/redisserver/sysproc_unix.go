//go:build unix && !linux

package redisserver

import "syscall"

// sysProcAttr runs the server in its own process group, so a terminal's
// Ctrl-C reaches only us.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
