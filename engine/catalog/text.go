package catalog

import "time"

// DurationsAsText copies v with every time.Duration in it, however deep
// in lists and mappings, written as text ("1m30s"): what JSON should
// carry for a duration, never a bare count of nanoseconds. Other values
// are kept as they are.
func DurationsAsText(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = DurationsAsText(e)
		}
		return out
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = DurationsAsText(e)
		}
		return out
	}
	return v
}
