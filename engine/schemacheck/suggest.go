package schemacheck

import (
	"sort"
	"strings"
)

// objectSchema is what hints need to know of an object schema.
type objectSchema struct {
	keys     []string // names of its properties, sorted
	patterns []string // its patternProperties, sorted
}

// objectOf returns what hints need of an object schema: its property
// names and its patternProperties, sorted.
func objectOf(n *schemaNode) objectSchema {
	var o objectSchema
	for _, p := range n.props {
		o.keys = append(o.keys, p.name)
	}
	for _, p := range n.patterns {
		o.patterns = append(o.patterns, p.name)
	}
	sort.Strings(o.keys)
	sort.Strings(o.patterns)
	return o
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// suggest returns the candidate closest to s when it is at most two edits
// away (and s is not so short that any word would be), else "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := distance(strings.ToLower(s), strings.ToLower(c))
		if d < bestDist && d < len(c) && d < len(s) {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b: the
// Levenshtein distance where swapping two adjacent letters is one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rolling rows: two back (for swaps), previous, current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
