package cli

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{300 * time.Microsecond, "<1ms"},
		{850 * time.Millisecond, "850ms"},
		{time.Second, "1s"},
		{9853725706, "9.9s"},
		{9960 * time.Millisecond, "10s"},
		{42*time.Second + 400*time.Millisecond, "42s"},
		{30 * time.Minute, "30m"},
		{12*time.Minute + 30*time.Second, "12m30s"},
		{time.Hour + 30*time.Minute + 10*time.Second, "1h30m"},
		{4 * time.Hour, "4h"},
		{-2 * time.Second, "-2s"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		noun string
		pl   []string
		want string
	}{
		{1, "step", nil, "1 step"},
		{0, "step", nil, "0 steps"},
		{2, "instance", nil, "2 instances"},
		{3, "branch", []string{"branches"}, "3 branches"},
		{1, "branch", []string{"branches"}, "1 branch"},
	}
	for _, tt := range tests {
		if got := plural(tt.n, tt.noun, tt.pl...); got != tt.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, ünïcode ✓", "plain text, ünïcode ✓"},
		{"line\nnext\tcol", "line\nnext\tcol"},
		{"\x1b[2J\x1b[Hcleared", `\x1b[2J\x1b[Hcleared`},
		{"\x1b]0;pwned\x07title", `\x1b]0;pwned\x07title`},
		{"nul\x00byte", `nul\x00byte`},
		{"raw \xff\xfe bytes", `raw \xff\xfe bytes`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"del\x7f", `del\x7f`},
		{"cr\rover", `cr\x0dover`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"short", 80, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer th…"},
		{"ünïcödé wörds", 5, "ünïc…"},
		{"x", 0, "x"},
	}
	for _, tt := range tests {
		if got := fit(tt.s, tt.width); got != tt.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
}
