package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// swapScripts writes the plugin ext into dir as a script that serves the
// test plugin, and returns it, its pin, and an unpinned variant that also
// appends a line to the file counter each time it runs.
func swapScripts(t *testing.T, dir string) (good, evil []byte, pin, counter string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	counter = filepath.Join(dir, "unpinned-runs")
	good = []byte("#!/bin/sh\nexec '" + exe + "' " + PluginArg + " ext\n")
	evil = []byte("#!/bin/sh\necho ran >> '" + counter + "'\nexec '" + exe + "' " + PluginArg + " ext\n")
	path := filepath.Join(dir, ExternalPrefix+"ext")
	replace(t, path, good)
	if pin, err = SHA256File(path); err != nil {
		t.Fatal(err)
	}
	return good, evil, pin, counter
}

// replace swaps the file at path for one with content b, atomically.
func replace(t testing.TB, path string, b []byte) {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Error(err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Error(err)
	}
}

func runs(t *testing.T, counter string) int {
	b, err := os.ReadFile(counter)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// TestSwapAfterCheckRunsPinnedBytes replaces the plugin file right after
// the host checked it, before the process starts: the pinned bytes run.
func TestSwapAfterCheckRunsPinnedBytes(t *testing.T) {
	dir := t.TempDir()
	_, evil, pin, counter := swapScripts(t, dir)
	path := filepath.Join(dir, ExternalPrefix+"ext")
	pinnedHook = func(string) { replace(t, path, evil) }
	defer func() { pinnedHook = nil }()
	cache := t.TempDir()
	m, _ := newManager(t, Options{Dir: dir, CacheDir: cache, Pins: map[string]string{"ext": pin}})
	if _, err := m.Describe(context.Background(), "ext"); err != nil {
		t.Fatalf("the pinned plugin did not start: %v", err)
	}
	m.Close()
	if n := runs(t, counter); n != 0 {
		t.Fatalf("the unpinned file ran %d times", n)
	}
	// The evil file itself, now in place, is refused, though the private
	// folder still holds a copy of the pinned bytes.
	pinnedHook = nil
	m2, _ := newManager(t, Options{Dir: dir, CacheDir: cache, Pins: map[string]string{"ext": pin}})
	var ce *ChecksumError
	if _, err := m2.Describe(context.Background(), "ext"); !errors.As(err, &ce) {
		t.Fatalf("swapped file: err = %v, want a ChecksumError", err)
	}
	if n := runs(t, counter); n != 0 {
		t.Fatalf("the unpinned file ran %d times", n)
	}
}

// TestSwapRace starts the plugin again and again while another goroutine
// swaps its file between the pinned and an unpinned version: the unpinned
// one must never run.
func TestSwapRace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, evil, pin, counter := swapScripts(t, dir)
	path := filepath.Join(dir, ExternalPrefix+"ext")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var swaps atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				replace(t, path, evil)
			} else {
				replace(t, path, good)
			}
			swaps.Add(1)
		}
	}()
	const trials = 40
	started, refused := 0, 0
	for i := 0; i < trials; i++ {
		// A fresh private folder each time, so every start copies and checks.
		m, _ := newManager(t, Options{Dir: dir, CacheDir: t.TempDir(), Pins: map[string]string{"ext": pin}})
		_, err := m.Describe(context.Background(), "ext")
		var ce *ChecksumError
		switch {
		case err == nil:
			started++
		case errors.As(err, &ce):
			refused++
		default:
			t.Errorf("trial %d: %v", i, err)
		}
		m.Close()
	}
	close(stop)
	wg.Wait()
	t.Logf("%d trials, %d swaps: %d started the pinned bytes, %d refused the unpinned file, %d runs of the unpinned file",
		trials, swaps.Load(), started, refused, runs(t, counter))
	if n := runs(t, counter); n != 0 {
		t.Fatalf("the unpinned file ran %d times in %d trials", n, trials)
	}
	if started+refused != trials {
		t.Fatalf("started %d + refused %d != %d trials", started, refused, trials)
	}
}
