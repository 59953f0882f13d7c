package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/internal/benchcorpus"
	"gopkg.in/yaml.v3"
)

// v3Root parses src with yaml.v3 as the loader does: the root of the only
// document, or nil when there is an error, another document or no mapping.
func v3Root(src []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return doc.Content[0]
}

// sameNode compares two trees field by field, comments aside.
func sameNode(a, b *yaml.Node, path string) error {
	if a == nil || b == nil {
		if a != b {
			return fmt.Errorf("%s: one node is nil", path)
		}
		return nil
	}
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) || (a.Alias == nil) != (b.Alias == nil) {
		return fmt.Errorf("%s: quick {kind %d style %d tag %s value %q at %d:%d, %d children} != yaml.v3 {kind %d style %d tag %s value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameNode(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// agreeYAML fails when quick accepts src and builds other nodes than yaml.v3.
func agreeYAML(t *testing.T, name string, src []byte) bool {
	t.Helper()
	got := quickParse(src)
	if got == nil {
		return false
	}
	want := v3Root(src)
	if want == nil {
		t.Errorf("%s: quick accepts what yaml.v3 rejects or reads otherwise:\n%s", name, src)
		return true
	}
	if err := sameNode(got, want, ""); err != nil {
		t.Errorf("%s: %v\n%s", name, err, src)
	}
	return true
}

func testFiles(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, glob := range []string{"../lint/testdata/*/*.yaml", "../schemacheck/testdata/*/*.yaml", "../../examples/*.yaml", "../../internal/cli/testdata/*.yaml", "../../runbooks/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = b
		}
	}
	for i := 0; i < 3; i++ {
		out[fmt.Sprintf("bench-%d", i)] = benchcorpus.Runbook(i, 50)
	}
	return out
}

var quickSeeds = []string{
	"a: b\n", "a: b", "a:  b  \n", "a: b # c\n", "a: b#c\n", "a: 'b''c'\n", `a: "b c"` + "\n", "a: \"b\\\"c\"\n", "'a b': c\n", "\"a\": c\n",
	"a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: 0x1F\ng: 1_000\nh: 2024-05-20\ni: 2024-05-20T10:00:00Z\nj: .5\nk: -1\nl: +1\nm: 0o17\nn: 0b101\no: .inf\np: -.inf\nq: 1e3\nr: 12:30\n",
	"a: yes\nb: no\nc: on\nd: True\ne: FALSE\nf: Null\ng: NULL\nh: n\n", "a: <<\n", "<<: {a: b}\n",
	"a:\n  b: c\n  d: e\nf: g\n", "a:\n- b\n- c\nd: e\n", "a:\n  - b\n  - c\n", "a:\n  - b: c\n    d: e\n  - f: g\n",
	"a:\n  - b: c\n    d:\n    - e\n", "a: [b, c]\n", "a: []\n", "a: {}\n", "a: {b: c, d: [e, f], g: {h: i}}\n", "a: [b, c,]\n",
	"a: [b, [c, d]]\n", "a: {b: 'c', d: \"e\"}\n", "a: [b\n", "a: {b: c\n", "a: {b}\n", "a: {b: }\n", "a: [b: c]\n", "a: [b #c]\n",
	"a: b\n  c\n", "a: b\n\n  c\n", "a: b\n  # c\n", "a: b\n# c\n  d: e\n", "a:\n", "a:\nb: c\n", "a: b: c\n", "a: b\nc\n",
	"a: &x b\nc: *x\n", "a: !!str 1\n", "a: |\n  b\n", "a: >\n  b\n", "---\na: b\n", "a: b\n---\nc: d\n", "a: b\n...\n",
	"a: b\n  c: d\n", " a: b\n", "a: b\n c: d\n", "a:\n  b: c\n d: e\n", "- a\n", "a\n", "a: -b\n", "a: - b\n", "a: ?b\n",
	"a: \"b\n", "a: 'b\n", "a: \"b\"c\n", "a: \"b\" # c\n", "a: ${{ b }}\n", "a: x ${{ b }} y\n", "a: \"${{ b }}\"\n",
	"a: é\n", "é: a\n", "a: b é: c\n", "a:\n  - é: b\n    c: d\n", "a: {é: b, c: d}\n", "a: \u2028\n", "a: b\r\n", "a:\tb\n",
	"a:\n  b:\n    c:\n      - d\n      - e: f\n        g: [h]\n", "a:\n  - - b\n", "a:\n  -\n    b: c\n", "a:\n  - b\n  c: d\n",
	"a:\n- b\n - c\n", "a: b  \n\n\n# end\n", "# head\n\na: b\n", "a: b # c: d\n", "a: b:c\n", "a: http://x/y\n", "a: b,c\n",
	"a: {b: c}d\n", "a: [b]  # c\n", "a : b\n", "a: 'b'\n  c: d\n", "a: [b, 'c''d', \"e\"]\n", "a: {b: [c, {d: e}]}\n",
	"a: [1, 2.5, true, null, x]\n", "a: {1: b}\n", "1: a\n", "true: a\n", "~: a\n", "a: -.5\n", "a: 1.\n", "a: 0.\n",
	"a: 1_0.5\n", "a: 12e\n", "a: -0b11\n", "a: -0o7\n", "a: 0b\n", "a: 9223372036854775808\n", "a: 18446744073709551616\n",
	"a: |\n  b\n  c\nd: e\n", "a: |-\n  b\n\n  c\n\nd: e\n", "a: |+\n  b\nd: e\n", "a: |+\n  b\n\nd: e\n", "a: >\n  b\n  c\n\n  d\n\n\n  e\nf: g\n",
	"a: >-\n  b\n  c\n", "a: >\n  b\n   c\n", "a: |\n  b\n   c\n  # d\n# e\nf: g\n", "a: |2\n  b\n", "a: | # c\n  b\n", "a: |x\n  b\n",
	"a: |\n\n  b\n", "a: |\n  b", "a: |\nb: c\n", "- a: |\n    b\n  c: d\n", "a:\n  - |\n    b\n  - c\n", "a:\n- |\n  b\n", "a: |\n  b\n  \n  c\n",
	"a: >\n  b\n\n\n", "a: |\n  b\n\n\nc: d\n", "a: >+\n  b\n", "a:\n  b: >\n    c\n    d\n  e: f\n",
	"a: 2024-1-2\n", "a: 2024-13-45\n", "a: 2024-05-20 10:00:00\n", "a: ' b '\n", "a: '' \n", "a: \"\"\n",
}

// TestQuickYAMLAgrees checks that whenever quick parses a file, it builds
// the nodes yaml.v3 builds.
func TestQuickYAMLAgrees(t *testing.T) {
	answered, total := 0, 0
	try := func(name string, src []byte) {
		total++
		if agreeYAML(t, name, src) {
			answered++
		}
	}
	files := testFiles(t)
	for name, src := range files {
		try(name, src)
	}
	for i, s := range quickSeeds {
		try(fmt.Sprintf("seed %d", i), []byte(s))
	}
	rng := rand.New(rand.NewSource(1))
	var all [][]byte
	for _, b := range files {
		all = append(all, b)
	}
	for i := 0; i < 20000; i++ {
		src := all[rng.Intn(len(all))]
		if rng.Intn(2) == 0 {
			src = []byte(quickSeeds[rng.Intn(len(quickSeeds))])
		}
		for k := rng.Intn(3); k >= 0; k-- {
			src = mutateYAML(rng, src)
		}
		try(fmt.Sprintf("mutant %d", i), src)
	}
	if answered*8 < total {
		t.Errorf("quick answered only %d of %d; it or the mutations have drifted", answered, total)
	}
	t.Logf("quick answered %d of %d", answered, total)
	for name, src := range files {
		if strings.Contains(name, "bench-") || strings.Contains(name, "examples") {
			if quickParse(src) == nil {
				t.Errorf("%s: quick gave up", name)
			}
		}
	}
}

// mutateYAML changes one place of src, with YAML's meaningful characters.
func mutateYAML(rng *rand.Rand, src []byte) []byte {
	pieces := []string{" ", "  ", "\n", "\n  ", ":", ": ", "- ", "#", " #", "'", "\"", "[", "]", "{", "}", ",", ", ", "&a ", "*a", "!",
		"|", ">", "-", "?", "1", "true", "null", "~", "é", "\t", "\\", "<<", "---\n", "x", "key: v\n", "  - i\n", "2024-05-20", "0x1"}
	if len(src) == 0 {
		return []byte(pieces[rng.Intn(len(pieces))])
	}
	i := rng.Intn(len(src))
	p := pieces[rng.Intn(len(pieces))]
	out := make([]byte, 0, len(src)+len(p))
	switch rng.Intn(3) {
	case 0:
		out = append(append(append(out, src[:i]...), p...), src[i:]...)
	case 1:
		j := min(len(src), i+1+rng.Intn(4))
		out = append(append(out, src[:i]...), src[j:]...)
	default:
		j := min(len(src), i+1+rng.Intn(4))
		out = append(append(append(out, src[:i]...), p...), src[j:]...)
	}
	return out
}

// FuzzQuickYAML compares quick with yaml.v3 on any input.
func FuzzQuickYAML(f *testing.F) {
	for _, s := range quickSeeds {
		f.Add([]byte(s))
	}
	for _, b := range testFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		agreeYAML(t, "fuzz", src)
	})
}

func BenchmarkParse(b *testing.B) {
	src := benchcorpus.Runbook(1, 50)
	b.Run("quick", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if quickParse(src) == nil {
				b.Fatal("quick gave up")
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			v3Root(src)
		}
	})
}
