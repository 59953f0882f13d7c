package pgserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNotInstalled reports that no PostgreSQL server binaries were found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found: " +
	"install them with `apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql` (macOS), " +
	"or point " + BinDirEnv + " at the folder that holds them")

// BinDirEnv names the environment variable that overrides where the server binaries are looked for.
const BinDirEnv = "PGSERVER_BINDIR"

// required lists the binaries a folder must hold to be usable.
var required = []string{"initdb", "postgres"}

// FindBinDir returns the folder holding initdb and postgres: dir when given,
// else $PGSERVER_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin
// (newest first), and finally PATH. The error wraps ErrNotInstalled.
func FindBinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(BinDirEnv)
	}
	if dir != "" {
		if hasServer(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%w (looked in %s)", ErrNotInstalled, dir)
	}
	candidates := candidateDirs()
	for _, d := range candidates {
		if hasServer(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w (looked in pg_config --bindir, /usr/lib/postgresql/*/bin and PATH)", ErrNotInstalled)
}

// candidateDirs lists the folders to try, most specific first.
func candidateDirs() []string {
	var dirs []string
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		// pg_config may come from libpq-dev alone and name a folder without a server.
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			dirs = append(dirs, strings.TrimSpace(string(out)))
		}
	}
	dirs = append(dirs, debianDirs()...)
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	return dirs
}

// debianDirs returns /usr/lib/postgresql/<version>/bin folders, newest version first.
func debianDirs() []string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(p)), 64)
		return v
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	return matches
}

// hasServer reports whether dir holds every required binary.
func hasServer(dir string) bool {
	for _, name := range required {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
