//go:build !unix

package redisserver

import "syscall"

// sysProcAttr has nothing to set on this platform.
func sysProcAttr() *syscall.SysProcAttr { return nil }
