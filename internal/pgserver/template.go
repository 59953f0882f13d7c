package pgserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Template is a data folder made once by initdb, from which Start makes
// each server's data folder by copying, for callers that start many
// servers (`runbook drill --all`, which starts one per drill).
type Template struct {
	dir     string
	dataDir string
	user    string
}

// NewTemplate runs initdb once into a new temporary folder. opts is read
// as by Start (BinDir, Dir, Superuser, RunAs, StartTimeout); Close removes
// the folder.
func NewTemplate(ctx context.Context, opts Options) (*Template, error) {
	opts = withDefaults(opts)
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	binDir, cred, dir, err := newFolder(opts, folderPrefix+"template-")
	if err != nil {
		return nil, err
	}
	s := &Server{binDir: binDir, dir: dir, dataDir: filepath.Join(dir, "data"), user: opts.Superuser, cred: cred}
	t := &Template{dir: dir, dataDir: s.dataDir, user: opts.Superuser}
	if err := s.chown(dir); err != nil {
		t.Close()
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// copyTo copies the template's data folder to dst, keeping owners and modes.
func (t *Template) copyTo(ctx context.Context, dst string) error {
	out, err := exec.CommandContext(ctx, "cp", "-a", t.dataDir, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgserver: copy the template data folder: %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Close removes the template's folder.
func (t *Template) Close() error { return os.RemoveAll(t.dir) }

// MemoryDir returns a folder in memory (/dev/shm, a tmpfs on Linux) for
// throwaway servers, or "" when there is none that is writable. A data
// folder is about a thousand files: on some disks copying it takes a
// second, in memory a twentieth of that.
func MemoryDir() string {
	const shm = "/dev/shm"
	st, err := os.Stat(shm)
	if err != nil || !st.IsDir() {
		return ""
	}
	f, err := os.CreateTemp(shm, folderPrefix+"probe-")
	if err != nil {
		return ""
	}
	f.Close()
	os.Remove(f.Name())
	return shm
}
