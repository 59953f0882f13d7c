package lint

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLint checks that no file makes any pass panic or hang.
func FuzzLint(f *testing.F) {
	for _, dir := range []string{"testdata/ok", "testdata/err", "../../examples"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(src)
			}
		}
	}
	cat := testCatalog(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		_, diags := Bytes("fuzz.yaml", src, cat)
		for _, d := range diags {
			if d.Rule == "" || d.Message == "" || d.Pos.Line < 0 {
				t.Fatalf("malformed finding %+v", d)
			}
		}
	})
}
