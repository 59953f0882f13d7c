package lint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
)

// RuleDuplicateName names the finding for two runbooks with one name in a folder.
const RuleDuplicateName = "duplicate-name"

// Result is the outcome of linting several files.
type Result struct {
	Runbooks []*load.Runbook
	Diags    diag.List
	Sources  diag.Sources
}

// IsRunbookFile reports whether a path has a runbook's extension.
func IsRunbookFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// Expand turns files and folders into the sorted list of runbook files they hold.
// Hidden folders (such as the .runbook state folder) are skipped.
func Expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && IsRunbookFile(path) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return dedupe(files), nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Files lints every file in parallel. The error is set when a file cannot be read.
func Files(files []string, cat *catalog.Catalog) (*Result, error) {
	res := &Result{Runbooks: make([]*load.Runbook, len(files)), Sources: diag.Sources{}}
	diags := make([]diag.List, len(files))
	errs := make([]error, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rb, ds, err := load.ReadFile(files[i])
				if err != nil {
					errs[i] = err
					continue
				}
				ds = append(ds, Runbook(rb, cat)...)
				res.Runbooks[i], diags[i] = rb, Suppress(rb, ds)
			}
		}()
	}
	for i := range files {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", files[i], unwrapPath(err))
		}
	}
	for i, rb := range res.Runbooks {
		res.Diags = append(res.Diags, diags[i]...)
		res.Sources[rb.File] = rb.Source
	}
	res.Diags = append(res.Diags, duplicateNames(res.Runbooks)...)
	res.Diags.Sort()
	return res, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// duplicateNames reports runbooks of one folder that share metadata.name.
func duplicateNames(rbs []*load.Runbook) diag.List {
	var out diag.List
	first := map[string]*load.Runbook{}
	for _, rb := range rbs {
		n := rb.Metadata.Name
		if !n.Set {
			continue
		}
		key := filepath.Dir(rb.File) + "\x00" + n.Value
		if prev, dup := first[key]; dup {
			out.Add(rb.File, n.Pos, RuleDuplicateName, "runbook name %q is also used by %s:%d; names must be unique in a folder", n.Value, prev.File, prev.Metadata.Name.Pos.Line)
			continue
		}
		first[key] = rb
	}
	return out
}
