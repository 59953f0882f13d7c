package pgserver

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// ReapStale removes server folders in dir (empty means os.TempDir()) left
// behind by processes that died without calling Stop: folders whose starting
// process and postmaster are both gone. It returns how many it removed.
func ReapStale(dir string) (int, error) {
	if runtime.GOOS == "windows" {
		return 0, nil // no cheap liveness check; nothing is ever reaped there
	}
	dir = socketSafeDir(dir)
	matches, err := filepath.Glob(filepath.Join(dir, folderPrefix+"*"))
	if err != nil {
		return 0, err
	}
	var removed int
	var errs []error
	for _, folder := range matches {
		owner, ok := readPID(filepath.Join(folder, ownerFile))
		if !ok || owner == os.Getpid() || alive(owner) {
			continue
		}
		if pm, ok := readPID(filepath.Join(folder, "data", "postmaster.pid")); ok && alive(pm) {
			continue
		}
		if err := os.RemoveAll(folder); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// readPID reads the pid on the first line of path.
func readPID(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	return pid, err == nil && pid > 0
}

// alive reports whether process pid exists (possibly owned by another user).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
