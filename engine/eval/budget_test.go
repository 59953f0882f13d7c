package eval

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	t.Parallel()
	env := Env{"params": map[string]any{"n": 3, "s": "ab", "list": []any{"x", "y"}}, "secrets": map[string]any{}, "steps": map[string]any{}, "env": map[string]any{}, "outputs": map[string]any{}}
	for _, tc := range []struct {
		src  string
		want any    // when err is ""
		err  string // a substring of the error
	}{
		{src: `len(repeat(repeat("x",100000),100000))`, err: "expression budget exceeded"},
		{src: `reduce(1..999999, #acc + "xxxxxxxxxx", "")`, err: "expression budget exceeded"},
		{src: `len(reduce(1..100, #acc + "x", ""))`, want: 100},
		{src: `map(1..400000, repeat("x", 1000))`, err: "expression budget exceeded"},
		{src: `repeat("x", -1)`, err: "negative count"},
		{src: `repeat(params.s, params.n)`, want: "ababab"},
		{src: `"a" + "b" + params.s`, want: "abab"},
		{src: `1 + 2`, want: 3},
		{src: `params.n + 1`, want: 4},
		{src: `params.list[0] + params.list[1]`, want: "xy"},
		{src: `map([1, 2], # * 2)`, want: []any{2, 4}},
		{src: `filter(params.list, # != "x")`, want: []any{"y"}},
		{src: `reduce(1..10, #acc + #, 0)`, want: 55},
		{src: `all(params.list, len(#) == 1)`, want: true},
	} {
		t.Run(tc.src, func(t *testing.T) {
			p := NewPrograms(func(string) bool { return false })
			// No clock: these must stop on the memory budget alone.
			p.TimeBudget = time.Hour
			got, err := p.Value(tc.src, env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestBudgetStops checks the time budget and cancellation stop a loop
// that allocates nothing: the budget, not the machine's speed, decides.
func TestBudgetStops(t *testing.T) {
	t.Parallel()
	env := Env{"params": map[string]any{}}
	const src = `reduce(1..900000, #acc + 1, 0)`
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		p    *Programs
		err  string
	}{
		{"time", &Programs{TimeBudget: time.Nanosecond}, "ran for more than 1ns"},
		{"cancelled", &Programs{Context: ctx}, "the run was cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.isID = func(string) bool { return false }
			tc.p.cache = map[string]*program{}
			_, err := tc.p.Value(src, env)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	// The same loop, shorter, under a budget no machine can exhaust.
	p := NewPrograms(func(string) bool { return false })
	p.TimeBudget = time.Hour
	if got, err := p.Value(`reduce(1..1000, #acc + 1, 0)`, env); err != nil || got != 1000 {
		t.Fatalf("within budget: %v, %v", got, err)
	}
}

// TestDerivedSecrets checks that values computed from secrets reach OnSecret.
func TestDerivedSecrets(t *testing.T) {
	t.Parallel()
	env := Env{"params": map[string]any{"p": "plain"}, "secrets": map[string]any{"T": "tok-abcdefgh"}}
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{`upper(secrets.T)`, []string{"TOK-ABCDEFGH"}},
		{`toBase64(secrets.T)`, []string{"dG9rLWFiY2RlZmdo"}},
		{`secrets.T[0:9]`, []string{"tok-abcde"}},
		{`[secrets.T + "x", "y"]`, []string{"tok-abcdefghx", "y"}},
		{`len(secrets.T)`, nil},
		{`secrets.T != ""`, nil},
		{`$env.secrets.T`, []string{"tok-abcdefgh"}},
		{`upper(params.p)`, nil},
	} {
		t.Run(tc.src, func(t *testing.T) {
			var got []string
			p := NewPrograms(func(string) bool { return false })
			p.OnSecret = func(v ...string) { got = append(got, v...) }
			if _, err := p.Value(tc.src, env); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("OnSecret got %q, want %q", got, tc.want)
			}
		})
	}
}
