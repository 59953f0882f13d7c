package httpcheck

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// statusSet is the statuses a check accepts: codes and classes ("2xx").
type statusSet struct {
	any     bool
	codes   []int
	classes []int // 2 for 2xx
}

// parseStatus reads expect_status: nil (200), an int, a string ("200",
// "2xx", "any") or a list of ints and strings.
func parseStatus(v any) (statusSet, error) {
	var s statusSet
	if v == nil {
		s.codes = []int{200}
		return s, nil
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	if len(items) == 0 {
		return s, fmt.Errorf("an empty list accepts nothing")
	}
	for _, it := range items {
		if err := s.add(it); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s *statusSet) add(v any) error {
	switch x := v.(type) {
	case int:
		return s.addCode(x)
	case float64:
		if x != math.Trunc(x) {
			return fmt.Errorf("%v is not a status code", x)
		}
		return s.addCode(int(x))
	case string:
		t := strings.ToLower(strings.TrimSpace(x))
		switch {
		case t == "any" || t == "*":
			s.any = true
			return nil
		case len(t) == 3 && strings.HasSuffix(t, "xx") && t[0] >= '1' && t[0] <= '5':
			s.classes = append(s.classes, int(t[0]-'0'))
			return nil
		}
		n, err := strconv.Atoi(t)
		if err != nil {
			return fmt.Errorf("%q is not a status code, a class such as 2xx, or any", x)
		}
		return s.addCode(n)
	}
	return fmt.Errorf("%v (%T) is not a status code", v, v)
}

func (s *statusSet) addCode(n int) error {
	if n < 100 || n > 599 {
		return fmt.Errorf("%d is not a status code (100-599)", n)
	}
	s.codes = append(s.codes, n)
	return nil
}

// has reports whether the set accepts status.
func (s statusSet) has(status int) bool {
	if s.any {
		return true
	}
	for _, c := range s.codes {
		if c == status {
			return true
		}
	}
	for _, c := range s.classes {
		if status/100 == c {
			return true
		}
	}
	return false
}

// String lists the set as a person would say it: "200", "200 or 204", "2xx".
func (s statusSet) String() string {
	if s.any {
		return "any status"
	}
	var parts []string
	for _, c := range s.codes {
		parts = append(parts, strconv.Itoa(c))
	}
	for _, c := range s.classes {
		parts = append(parts, strconv.Itoa(c)+"xx")
	}
	return strings.Join(parts, " or ")
}
