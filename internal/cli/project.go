package cli

import (
	"os"
	"path/filepath"
	"strings"
)

// The project root is where runbooks, state and plugins resolve from, so
// that a command gives the same answer, and takes the same lock, from any
// folder of the project: the nearest folder, from the working directory
// up, that holds a runbooks/ folder (DefaultDir) or a .runbook/ state
// folder (DefaultStateDir); else the working directory itself.

// root returns the project root, found once per Command.
func (c *Command) root() string {
	if c.Root != "" {
		return c.Root
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	c.Root = wd
	for dir := wd; ; {
		if isDir(filepath.Join(dir, DefaultDir)) || isDir(filepath.Join(dir, DefaultStateDir)) {
			c.Root = dir
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return c.Root
}

// inRoot resolves a default, relative location against the project root.
func (c *Command) inRoot(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(c.root(), path)
}

// runbookDir is the folder runbooks are found by name in: --dir when the
// user gave one, else the project's runbooks/, written relative to the
// working directory so that messages and annotations name files as the
// user sees them (runbooks/x.yaml, ../runbooks/x.yaml).
func (c *Command) runbookDir(flag string) string {
	if flag != DefaultDir {
		return flag
	}
	dir := c.inRoot(DefaultDir)
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil {
			return rel
		}
	}
	return dir
}

// fromRoot writes path relative to the project root when it lies inside
// it (what a journal records, so a run resumes from any folder), else
// absolute.
func (c *Command) fromRoot(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(c.root(), abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	return filepath.ToSlash(rel)
}

// isDir reports whether path is a folder.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
