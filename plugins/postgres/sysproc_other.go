//go:build !linux

package postgres

import "syscall"

// toolSysProcAttr has nothing to set on this platform.
func toolSysProcAttr() *syscall.SysProcAttr { return nil }
