package schemacheck

import (
	"reflect"
	"testing"
	"time"
)

func TestScalars(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{"a", "a"},
		{`"4"`, "4"},
		{"4", int64(4)},
		{"-4", int64(-4)},
		{"0x1F", int64(31)},
		{"0o17", int64(15)},
		{"1_000", int64(1000)},
		{"18446744073709551615", uint64(18446744073709551615)},
		{"1.5", 1.5},
		{"1e3", 1000.0},
		{".inf", 0.5},
		{"-.Inf", 0.5},
		{".nan", 0.5},
		{"true", true},
		{"False", false},
		{"yes", "yes"},
		{"~", nil},
		{"null", nil},
		{"", nil},
		{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"},
		{"!!str 5", "5"},
		{"!!int 5", int64(5)},
		{"!!float 5", 5.0},
		{"!!int nope", "nope"},
		{"!custom x", "x"},
	}
	for _, tt := range tests {
		doc := parse(t, []byte("v: "+tt.src+"\n"))
		m, ok := newConverter().value(doc).(map[string]any)
		if !ok {
			t.Fatalf("%q: not a mapping", tt.src)
		}
		if got := m["v"]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q converts to %#v, want %#v", tt.src, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	doc := parse(t, []byte(`
a: &a {x: 1, y: 1}
b: &b {y: 2, z: 2}
c:
  <<: [*a, *b]
  z: 3
`))
	m := newConverter().value(doc).(map[string]any)
	want := map[string]any{"x": int64(1), "y": int64(2), "z": int64(3)}
	if got := m["c"]; !reflect.DeepEqual(got, want) {
		t.Errorf("merged c = %v, want %v", got, want)
	}
	for key, line := range map[string]int{"x": 2, "y": 3, "z": 6} {
		k, v := locate(doc.Content[0], []string{"c", key})
		if k == nil || v == nil || v.Line != line {
			t.Errorf("locate c/%s = %v, %v; want line %d", key, k, v, line)
		}
	}
}

func TestAliasCycle(t *testing.T) {
	c := newConverter()
	c.value(parse(t, []byte("a: &x {b: [*x]}\n")))
	if c.bad == nil || c.bad.Line != 1 || c.bad.Column != 12 {
		t.Fatalf("cycle not caught at 1:12: %v %q", c.bad, c.why)
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'k'; i, prev = i+1, i {
		src += string(i) + ": &" + string(i) + " [" + strings10("*"+string(prev)) + "]\n"
	}
	start := time.Now()
	l := Check("bomb.yaml", parse(t, []byte(src)))
	if len(l) != 1 || l[0].Rule != RuleSchema {
		t.Fatalf("want one [schema] finding, got %v", l)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Check took %v on an alias bomb", d)
	}
}

func strings10(s string) string {
	out := s
	for range 9 {
		out += ", " + s
	}
	return out
}
