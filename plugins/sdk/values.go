package sdk

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"google.golang.org/protobuf/types/known/structpb"
)

// Values cross the wire as google.protobuf.Value, which knows only JSON's
// types. Timestamps travel as RFC 3339 strings and durations as Go duration
// strings; the receiving side turns them back into time.Time and
// time.Duration where the catalogue declares those types. Numbers travel as
// doubles: an integral number within ±2^53 decodes as int, so ints come back
// as ints even inside lists, maps and `any` values; an int beyond that range
// travels as a decimal string so it loses no digits.

const maxExactInt = 1 << 53

// encodeMap converts runtime values to a Struct.
func encodeMap(m map[string]any) (*structpb.Struct, error) {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(m))}
	for k, v := range m {
		ev, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		s.Fields[k] = ev
	}
	return s, nil
}

// encodeValue converts one runtime value to a Value.
func encodeValue(v any) (*structpb.Value, error) {
	switch x := v.(type) {
	case nil:
		return structpb.NewNullValue(), nil
	case *structpb.Value:
		return x, nil
	case string:
		return structpb.NewStringValue(x), nil
	case bool:
		return structpb.NewBoolValue(x), nil
	case int:
		return intValue(int64(x)), nil
	case float64:
		return structpb.NewNumberValue(x), nil
	case time.Time:
		return structpb.NewStringValue(x.Format(time.RFC3339Nano)), nil
	case time.Duration:
		return structpb.NewStringValue(x.String()), nil
	case []byte:
		return structpb.NewStringValue(base64.StdEncoding.EncodeToString(x)), nil
	case json.Number:
		if f, err := x.Float64(); err == nil && math.Abs(f) < maxExactInt {
			return structpb.NewNumberValue(f), nil
		}
		return structpb.NewStringValue(x.String()), nil
	case map[string]any:
		s, err := encodeMap(x)
		if err != nil {
			return nil, err
		}
		return structpb.NewStructValue(s), nil
	case []any:
		return encodeList(len(x), func(i int) any { return x[i] })
	case []map[string]any:
		return encodeList(len(x), func(i int) any { return x[i] })
	}
	return encodeReflect(reflect.ValueOf(v))
}

// encodeReflect handles the Go types the fast path does not name: named
// scalar types, typed slices and maps, pointers and, through JSON, structs.
func encodeReflect(rv reflect.Value) (*structpb.Value, error) {
	switch rv.Kind() {
	case reflect.String:
		return structpb.NewStringValue(rv.String()), nil
	case reflect.Bool:
		return structpb.NewBoolValue(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intValue(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u < maxExactInt {
			return structpb.NewNumberValue(float64(u)), nil
		}
		return structpb.NewStringValue(strconv.FormatUint(rv.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		return structpb.NewNumberValue(rv.Float()), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return structpb.NewNullValue(), nil
		}
		return encodeValue(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return structpb.NewNullValue(), nil
		}
		return encodeList(rv.Len(), func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return encodeValue(m)
		}
	}
	return encodeJSON(rv.Interface())
}

// encodeJSON encodes what JSON can describe, such as a struct, via its JSON form.
func encodeJSON(v any) (*structpb.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot send a %T: %w", v, err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, fmt.Errorf("cannot send a %T: %w", v, err)
	}
	return encodeValue(generic)
}

func encodeList(n int, at func(int) any) (*structpb.Value, error) {
	l := &structpb.ListValue{Values: make([]*structpb.Value, n)}
	for i := range n {
		ev, err := encodeValue(at(i))
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		l.Values[i] = ev
	}
	return structpb.NewListValue(l), nil
}

func intValue(n int64) *structpb.Value {
	if n > -maxExactInt && n < maxExactInt {
		return structpb.NewNumberValue(float64(n))
	}
	return structpb.NewStringValue(strconv.FormatInt(n, 10))
}

// decodeMap converts a Struct to runtime values, integral numbers as int.
func decodeMap(s *structpb.Struct) map[string]any {
	m := make(map[string]any, len(s.GetFields()))
	for k, v := range s.GetFields() {
		m[k] = decodeValue(v)
	}
	return m
}

// decodeValue converts one Value to a runtime value, integral numbers as int.
func decodeValue(v *structpb.Value) any {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		f := k.NumberValue
		if f == math.Trunc(f) && math.Abs(f) < maxExactInt {
			return int(f)
		}
		return f
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_BoolValue:
		return k.BoolValue
	case *structpb.Value_StructValue:
		return decodeMap(k.StructValue)
	case *structpb.Value_ListValue:
		l := make([]any, len(k.ListValue.GetValues()))
		for i, e := range k.ListValue.GetValues() {
			l[i] = decodeValue(e)
		}
		return l
	}
	return nil
}

// coerce converts each value in m to the type its field declares. what names
// the values in messages ("input", "output", "config"). With strict, a key no
// field declares is an error; otherwise it passes through unchanged. A nil
// value counts as absent. A secret value never appears in a message.
func coerce(fields []catalog.Field, m map[string]any, what string, strict bool) (map[string]any, error) {
	out := make(map[string]any, len(m))
	var problems []string
	bad := map[string]bool{}
	for k, v := range m {
		f, ok := field(fields, k)
		switch {
		case !ok && strict:
			problems = append(problems, fmt.Sprintf("unknown %s %q", what, k))
		case !ok:
			out[k] = v
		case v == nil:
		default:
			cv, err := f.Type.Coerce(v)
			if err != nil {
				bad[k] = true
				problems = append(problems, coerceProblem(f, what, err))
				continue
			}
			out[k] = cv
		}
	}
	for _, f := range fields {
		if _, ok := out[f.Name]; f.Required && !ok && !bad[f.Name] {
			problems = append(problems, fmt.Sprintf("missing required %s %q", what, f.Name))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return out, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

func coerceProblem(f catalog.Field, what string, err error) string {
	if f.Secret {
		// The parse error may quote the value.
		return fmt.Sprintf("%s %q (secret): not a valid %s", what, f.Name, f.Type)
	}
	return fmt.Sprintf("%s %q: %v", what, f.Name, err)
}

func field(fs []catalog.Field, name string) (catalog.Field, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return catalog.Field{}, false
}
