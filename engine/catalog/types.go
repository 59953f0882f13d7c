package catalog

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Type is the type of a parameter, input, output or configuration key.
type Type string

// The types a runbook value can have. Runtime values use the Go types in comments.
const (
	String    Type = "string"    // string
	Int       Type = "int"       // int
	Number    Type = "number"    // float64
	Bool      Type = "bool"      // bool
	Timestamp Type = "timestamp" // time.Time
	Duration  Type = "duration"  // time.Duration
	List      Type = "list"      // []any
	Map       Type = "map"       // map[string]any
	Rows      Type = "rows"      // []any of map[string]any: query results
	Any       Type = "any"       // anything
)

// ParamTypes are the types a runbook's params may declare.
var ParamTypes = []Type{String, Int, Number, Bool, Timestamp, Duration}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	switch t {
	case String, Int, Number, Bool, Timestamp, Duration, List, Map, Rows, Any:
		return true
	}
	return false
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
	anyType      = reflect.TypeOf((*any)(nil)).Elem()
)

// GoType is the Go type values of t have at run time; expression checking uses it.
func (t Type) GoType() reflect.Type {
	switch t {
	case String:
		return reflect.TypeOf("")
	case Int:
		return reflect.TypeOf(0)
	case Number:
		return reflect.TypeOf(0.0)
	case Bool:
		return reflect.TypeOf(false)
	case Timestamp:
		return timeType
	case Duration:
		return durationType
	case List:
		return reflect.TypeOf([]any(nil))
	case Map:
		return reflect.TypeOf(map[string]any(nil))
	case Rows:
		return reflect.TypeOf([]map[string]any(nil))
	}
	return anyType
}

// TypeOfGo maps a Go type back to the runbook type that best describes it.
func TypeOfGo(rt reflect.Type) Type {
	if rt == nil {
		return Any
	}
	switch {
	case rt == timeType:
		return Timestamp
	case rt == durationType:
		return Duration
	}
	switch rt.Kind() {
	case reflect.String:
		return String
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Int
	case reflect.Float32, reflect.Float64:
		return Number
	case reflect.Bool:
		return Bool
	case reflect.Slice, reflect.Array:
		if rt.Elem().Kind() == reflect.Map {
			return Rows
		}
		return List
	case reflect.Map, reflect.Struct:
		return Map
	}
	return Any
}

// Accepts reports whether a value of type from may be given where t is declared.
// Any on either side accepts; an int is a valid number; a string may carry a
// timestamp or duration (it is parsed at run time).
func (t Type) Accepts(from Type) bool {
	switch {
	case t == from, t == Any, from == Any:
		return true
	case t == Number && from == Int:
		return true
	case t == List && from == Rows:
		return true
	case (t == Timestamp || t == Duration) && from == String:
		return true
	case t == String && (from == Int || from == Number || from == Bool || from == Timestamp || from == Duration):
		return true // rendered as text
	}
	return false
}

// Parse converts command-line text to a value of type t.
func (t Type) Parse(s string) (any, error) {
	switch t {
	case String, Any:
		return s, nil
	case Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not an int", s)
		}
		return n, nil
	case Number:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a bool (true or false)", s)
		}
		return b, nil
	case Timestamp:
		return ParseTimestamp(s)
	case Duration:
		return ParseDuration(s)
	}
	return nil, fmt.Errorf("a %s cannot be given as text", t)
}

// Coerce converts a decoded value (from YAML, JSON or a plugin) to type t,
// or explains why it cannot.
func (t Type) Coerce(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case Any:
		return v, nil
	case String:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, int64, float64, bool:
			return fmt.Sprint(x), nil
		case time.Time:
			return x.Format(time.RFC3339Nano), nil
		case time.Duration:
			return x.String(), nil
		}
	case Int:
		switch x := v.(type) {
		case int:
			return x, nil
		case int64:
			return int(x), nil
		case uint64:
			if x <= math.MaxInt64 {
				return int(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int(x), nil
			}
		case string:
			return t.Parse(x)
		}
	case Number:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			return t.Parse(x)
		}
	case Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			return t.Parse(x)
		}
	case Timestamp:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			return ParseTimestamp(x)
		}
	case Duration:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case string:
			return ParseDuration(x)
		}
	case List, Rows:
		if x, ok := v.([]any); ok {
			return x, nil
		}
		// Expressions give typed slices ([]string from split, []int, ...).
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			out := make([]any, rv.Len())
			for i := range out {
				out[i] = rv.Index(i).Interface()
			}
			return out, nil
		}
	case Map:
		if x, ok := v.(map[string]any); ok {
			return x, nil
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
			out := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				out[it.Key().String()] = it.Value().Interface()
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("want %s, got %s", t, describe(v))
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int, int64, uint64:
		return "int"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	case time.Time:
		return "timestamp"
	case time.Duration:
		return "duration"
	}
	return fmt.Sprintf("%T", v)
}

// ParseTimestamp reads an RFC 3339 timestamp.
func ParseTimestamp(s string) (time.Time, error) {
	ts, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp (e.g. 2024-05-20T10:00:00Z)", s)
	}
	return ts, nil
}

// ParseDuration reads a duration such as "90s", "30m", "4h" or "1d" (days of 24 hours).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration (e.g. 30s, 10m, 4h)")
	}
	if strings.HasSuffix(s, "d") && !strings.HasSuffix(s, "nd") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err == nil && n >= 0 && n < 1<<20 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30s, 10m, 4h)", s)
	}
	return d, nil
}
