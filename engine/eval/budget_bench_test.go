package eval

import "testing"

// BenchmarkGuard measures one guard's evaluation with its budget: the
// per-evaluation account and the calls the budget patch adds to loops.
func BenchmarkGuard(b *testing.B) {
	p := NewPrograms(func(string) bool { return false })
	env := Env{"params": map[string]any{"n": 5, "list": []any{"a", "b", "c"}}}
	const src = `params.n > 3 && len(filter(params.list, # != "x")) > 0 && "a" + "b" == "ab"`
	for b.Loop() {
		if _, err := p.Value(src, env); err != nil {
			b.Fatal(err)
		}
	}
}
