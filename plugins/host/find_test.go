package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindExecutable(t *testing.T) {
	first, second, onPath, empty := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(first, "runbook-plugin-a", 0o755)
	write(second, "runbook-plugin-a", 0o755)
	write(second, "runbook-plugin-b", 0o755)
	write(first, "runbook-plugin-c", 0o644) // not executable: skipped
	write(onPath, "runbook-plugin-c", 0o755)
	t.Setenv("PATH", onPath)
	tests := []struct {
		file    string
		dirs    []string
		want    string // the folder it is found in
		wantErr []string
	}{
		{file: "runbook-plugin-a", dirs: []string{first, second}, want: first},
		{file: "runbook-plugin-b", dirs: []string{first, second}, want: second},
		{file: "runbook-plugin-b", dirs: []string{"", second}, want: second},
		{file: "runbook-plugin-c", dirs: []string{first}, want: onPath},
		{file: "runbook-plugin-d", dirs: []string{empty, first},
			wantErr: []string{"runbook-plugin-d is not in " + empty + ", " + first + " or on PATH", "go build -o " + empty + "/ ./cmd/..."}},
		{file: "runbook-plugin-d", wantErr: []string{"is not on PATH"}},
	}
	for _, tt := range tests {
		got, err := FindExecutable(tt.file, tt.dirs...)
		if tt.wantErr != nil {
			if err == nil {
				t.Errorf("%s in %v: found %s, want an error", tt.file, tt.dirs, got)
				continue
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s in %v: error %q lacks %q", tt.file, tt.dirs, err, w)
				}
			}
			continue
		}
		if err != nil || got != filepath.Join(tt.want, tt.file) {
			t.Errorf("%s in %v: %q, %v; want it in %s", tt.file, tt.dirs, got, err, tt.want)
		}
	}
}

// TestProviderIsStartedFromItsExecutable starts a provider the way the
// CLI does, from an executable found in a search folder, and refuses a
// provider that is missing with the build hint.
func TestProviderIsStartedFromItsExecutable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nexec '" + exe + "' " + PluginArg + " test\n"
	if err := os.WriteFile(filepath.Join(dir, ExternalPrefix+"test"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Providers: []string{"test", "gone"}, Search: []string{dir}})
	defer m.Close()
	spec, err := m.Describe(t.Context(), "test")
	if err != nil || spec.Name != "test" {
		t.Fatalf("describe: %+v, %v", spec.Name, err)
	}
	_, err = m.Describe(t.Context(), "gone")
	if err == nil || !strings.Contains(err.Error(), "no plugin gone: runbook-plugin-gone is not in "+dir) {
		t.Errorf("a missing provider: %v", err)
	}
}
