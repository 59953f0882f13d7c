package catalog

import (
	"reflect"
	"testing"
	"time"
)

func TestDurationsAsText(t *testing.T) {
	tests := []struct {
		in, want any
	}{
		{90 * time.Second, "1m30s"},
		{"30s", "30s"},
		{42, 42},
		{[]any{time.Millisecond, "x"}, []any{"1ms", "x"}},
		{map[string]any{"every": map[string]any{"d": []any{2 * time.Hour}}, "n": 1}, map[string]any{"every": map[string]any{"d": []any{"2h0m0s"}}, "n": 1}},
		{map[string]any(nil), map[string]any(nil)},
	}
	for _, tt := range tests {
		if got := DurationsAsText(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DurationsAsText(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
