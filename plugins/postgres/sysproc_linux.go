//go:build linux

package postgres

import "syscall"

// toolSysProcAttr kills a client tool when the plugin dies, so an orphaned
// psql can never commit a restore after the engine has given up on it: the
// server rolls the transaction back when the connection drops.
func toolSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
