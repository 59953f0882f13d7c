//go:build unix && !linux

package pgserver

import (
	"os"
	"syscall"
)

// sysProcAttr runs a child as cred in its own process group, so a terminal's
// Ctrl-C reaches only us.
func sysProcAttr(cred *credential, server bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if cred != nil {
		attr.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid}
	}
	return attr
}

// ownedBy reports whether fi belongs to uid.
func ownedBy(fi os.FileInfo, uid uint32) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == uid
}
