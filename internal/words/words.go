// Package words writes numbers for people: "1 step", "3 steps".
package words

import "strconv"

// Plural writes n and the noun, singular for one. pluralForm is the
// noun's plural when it is not noun+"s".
func Plural(n int, noun string, pluralForm ...string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(pluralForm) > 0 {
		return strconv.Itoa(n) + " " + pluralForm[0]
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
