//go:build linux

package redisserver

import "syscall"

// sysProcAttr runs the server in its own process group, so a terminal's
// Ctrl-C reaches only us, and has the kernel send it SIGTERM should this
// process die without calling Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
