package catalog

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t    Type
		in   string
		want any
		err  string // a part of the error, "" when none
	}{
		{String, " x ", " x ", ""},
		{Any, "x", "x", ""},
		{Int, " 42 ", 42, ""},
		{Int, "-3", -3, ""},
		{Int, "4.5", nil, `"4.5" is not an int`},
		{Int, "", nil, `"" is not an int`},
		{Number, "2.5", 2.5, ""},
		{Number, "7", 7.0, ""},
		{Number, "seven", nil, `"seven" is not a number`},
		{Bool, "true", true, ""},
		{Bool, " false", false, ""},
		{Bool, "yes", nil, `"yes" is not a bool (true or false)`},
		{Timestamp, "2024-05-20T10:00:00Z", at, ""},
		{Timestamp, "2024-05-20", nil, "is not an RFC 3339 timestamp"},
		{Duration, "90s", 90 * time.Second, ""},
		{Duration, "1d", 24 * time.Hour, ""},
		{Duration, "1h30m", 90 * time.Minute, ""},
		{Duration, "-1s", nil, `"-1s" is not a duration`},
		{List, "a,b", nil, "a list cannot be given as text"},
		{Map, "{}", nil, "a map cannot be given as text"},
	} {
		got, err := tc.t.Parse(tc.in)
		if !errMatches(err, tc.err) || err == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s.Parse(%q) = %#v, %v; want %#v, error %q", tc.t, tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestCoerce(t *testing.T) {
	t.Parallel()
	rows := []map[string]any{{"n": 1}}
	for _, tc := range []struct {
		t    Type
		in   any
		want any
		err  string
	}{
		{String, nil, nil, ""},
		{String, "x", "x", ""},
		{String, 3, "3", ""},
		{String, 2.5, "2.5", ""},
		{String, true, "true", ""},
		{String, at, "2024-05-20T10:00:00Z", ""},
		{String, time.Minute, "1m0s", ""},
		{String, []any{1}, nil, "want string, got list"},
		{Int, 3, 3, ""},
		{Int, int64(4), 4, ""},
		{Int, uint64(5), 5, ""},
		{Int, uint64(1 << 63), nil, "want int, got int"},
		{Int, 3.0, 3, ""},
		{Int, 3.5, nil, "want int, got number"},
		{Int, "7", 7, ""},
		{Int, "x", nil, `"x" is not an int`},
		{Int, true, nil, "want int, got bool"},
		{Number, 2.5, 2.5, ""},
		{Number, 2, 2.0, ""},
		{Number, int64(2), 2.0, ""},
		{Number, "2.5", 2.5, ""},
		{Number, false, nil, "want number, got bool"},
		{Bool, true, true, ""},
		{Bool, "false", false, ""},
		{Bool, 1, nil, "want bool, got int"},
		{Timestamp, at, at, ""},
		{Timestamp, "2024-05-20T10:00:00Z", at, ""},
		{Timestamp, 5, nil, "want timestamp, got int"},
		{Duration, time.Second, time.Second, ""},
		{Duration, "2d", 48 * time.Hour, ""},
		{Duration, 60, nil, "want duration, got int"},
		{List, []any{1, "a"}, []any{1, "a"}, ""},
		{List, rows, []any{rows[0]}, ""},
		{Rows, rows, []any{rows[0]}, ""},
		{List, []string{"a", "b"}, []any{"a", "b"}, ""}, // split() in an expression
		{List, []int{1}, []any{1}, ""},
		{List, "a", nil, "want list, got string"},
		{Map, map[string]string{"a": "b"}, map[string]any{"a": "b"}, ""},
		{Map, map[int]any{1: 1}, nil, "want map, got"},
		{Map, map[string]any{"a": 1}, map[string]any{"a": 1}, ""},
		{Map, []any{}, nil, "want map, got list"},
		{Any, struct{}{}, struct{}{}, ""},
	} {
		got, err := tc.t.Coerce(tc.in)
		if !errMatches(err, tc.err) || err == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s.Coerce(%#v) = %#v, %v; want %#v, error %q", tc.t, tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t, from Type
		want    bool
	}{
		{String, String, true}, {Any, Int, true}, {Int, Any, true},
		{Number, Int, true}, {Int, Number, false},
		{List, Rows, true}, {Rows, List, false},
		{Timestamp, String, true}, {Duration, String, true}, {Timestamp, Duration, false},
		{String, Int, true}, {String, Number, true}, {String, Bool, true}, {String, Timestamp, true}, {String, Duration, true},
		{String, List, false}, {String, Map, false}, {Bool, String, false}, {Int, String, false}, {Map, List, false},
	} {
		if got := tc.t.Accepts(tc.from); got != tc.want {
			t.Errorf("%s.Accepts(%s) = %v, want %v", tc.t, tc.from, got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"1d", 24 * time.Hour, false},
		{" 7d ", 7 * 24 * time.Hour, false},
		{"0d", 0, false},
		{"30m", 30 * time.Minute, false},
		{"4h", 4 * time.Hour, false},
		{"1.5h", 90 * time.Minute, false},
		{"", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"-1d", 0, true},
		{"1d2h", 0, true},
		{"ten", 0, true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestTypes(t *testing.T) {
	t.Parallel()
	for _, ty := range []Type{String, Int, Number, Bool, Timestamp, Duration, List, Map, Rows, Any} {
		if !ty.Valid() {
			t.Errorf("%s is not Valid", ty)
		}
		if back := TypeOfGo(ty.GoType()); back != ty {
			t.Errorf("TypeOfGo(%s.GoType()) = %s", ty, back)
		}
	}
	if Type("float").Valid() {
		t.Error(`"float" is Valid`)
	}
	if TypeOfGo(nil) != Any || TypeOfGo(reflect.TypeOf(uint8(0))) != Int || TypeOfGo(reflect.TypeOf(struct{}{})) != Map {
		t.Error("TypeOfGo maps other Go types wrongly")
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	p := Plugin{Name: "demo", Actions: []Action{{Name: "scale", Inputs: []Field{{Name: "n", Type: Int, Required: true}}}}}
	c, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.Action("demo.scale"); !ok || a.Name != "scale" {
		t.Errorf(`Action("demo.scale") = %v, %v`, a, ok)
	}
	if _, ok := c.Action("log"); !ok {
		t.Error(`the built-in "log" is missing`)
	}
	if _, ok := c.Action("scale"); ok {
		t.Error(`a plugin action is found without its plugin's name`)
	}
	if f, ok := (&p.Actions[0]).Input("n"); !ok || f.Type != Int {
		t.Errorf(`Input("n") = %v, %v`, f, ok)
	}
	names := c.ActionNames()
	if !reflect.DeepEqual(names, []string{"approval", "assert", "demo.scale", "log", "manual", "wait"}) {
		t.Errorf("ActionNames() = %v", names)
	}
	for _, tc := range []struct {
		plugins []Plugin
		err     string
	}{
		{[]Plugin{p, p}, `plugin "demo" declared twice`},
		{[]Plugin{{Name: "log"}}, `plugin "log" has the name of a built-in action`},
		{[]Plugin{{Name: "x", Actions: []Action{{Name: "a"}, {Name: "a"}}}}, `action "x.a" declared twice`},
	} {
		if _, err := New(tc.plugins...); !errMatches(err, tc.err) {
			t.Errorf("New(%v) error = %v, want %q", tc.plugins, err, tc.err)
		}
	}
}

// errMatches reports whether err contains want, or is nil when want is "".
func errMatches(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}
