//go:build !unix

package pgserver

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to set on this platform.
func sysProcAttr(cred *credential, server bool) *syscall.SysProcAttr { return nil }

// ownedBy is never asked on this platform, where nothing runs as another user.
func ownedBy(fi os.FileInfo, uid uint32) bool { return true }
