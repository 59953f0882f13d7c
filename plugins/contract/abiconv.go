package contract

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// toArgs converts a runbook's argument list to the Go values abi.Pack
// wants for args; what names the function in errors.
func toArgs(args abi.Arguments, in []any, what string) ([]any, error) {
	if len(in) != len(args) {
		return nil, sdk.BadInput("contract: %s takes %d argument(s) (%s), got %d", what, len(args), argTypes(args), len(in))
	}
	out := make([]any, len(in))
	for i, a := range args {
		name := a.Name
		if name == "" {
			name = "#" + strconv.Itoa(i+1)
		}
		v, err := toABI(a.Type, in[i])
		if err != nil {
			return nil, sdk.BadInput("contract: %s: argument %s (%s): %v", what, name, a.Type.String(), err)
		}
		out[i] = v.Interface()
	}
	return out, nil
}

func argTypes(args abi.Arguments) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = strings.TrimSpace(a.Type.String() + " " + a.Name)
	}
	return strings.Join(parts, ", ")
}

// toABI converts one runbook value to the Go type abi.Pack expects for t.
func toABI(t abi.Type, v any) (reflect.Value, error) {
	switch t.T {
	case abi.IntTy, abi.UintTy:
		n, err := toBigInt(v)
		if err != nil {
			return reflect.Value{}, err
		}
		return intValue(t, n)
	case abi.BoolTy:
		switch x := v.(type) {
		case bool:
			return reflect.ValueOf(x), nil
		case string:
			b, err := strconv.ParseBool(x)
			if err == nil {
				return reflect.ValueOf(b), nil
			}
		}
		return reflect.Value{}, fmt.Errorf("want true or false, got %v", v)
	case abi.StringTy:
		s, ok := v.(string)
		if !ok {
			return reflect.Value{}, fmt.Errorf("want a string, got %T", v)
		}
		return reflect.ValueOf(s), nil
	case abi.AddressTy:
		a, err := parseAddress("the address", v)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "contract: "))
		}
		return reflect.ValueOf(a), nil
	case abi.BytesTy:
		b, err := toBytes(v)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(b), nil
	case abi.FixedBytesTy:
		b, err := toBytes(v)
		if err != nil {
			return reflect.Value{}, err
		}
		if len(b) != t.Size {
			return reflect.Value{}, fmt.Errorf("want %d bytes, got %d", t.Size, len(b))
		}
		arr := reflect.New(t.GetType()).Elem()
		reflect.Copy(arr, reflect.ValueOf(b))
		return arr, nil
	case abi.SliceTy, abi.ArrayTy:
		list, ok := v.([]any)
		if !ok {
			return reflect.Value{}, fmt.Errorf("want a list, got %T", v)
		}
		if t.T == abi.ArrayTy && len(list) != t.Size {
			return reflect.Value{}, fmt.Errorf("want %d elements, got %d", t.Size, len(list))
		}
		var out reflect.Value
		if t.T == abi.SliceTy {
			out = reflect.MakeSlice(t.GetType(), len(list), len(list))
		} else {
			out = reflect.New(t.GetType()).Elem()
		}
		for i, e := range list {
			ev, err := toABI(*t.Elem, e)
			if err != nil {
				return reflect.Value{}, fmt.Errorf("element %d: %w", i, err)
			}
			out.Index(i).Set(ev)
		}
		return out, nil
	case abi.TupleTy:
		return toTuple(t, v)
	}
	return reflect.Value{}, fmt.Errorf("type %s is not supported", t.String())
}

func toTuple(t abi.Type, v any) (reflect.Value, error) {
	out := reflect.New(t.TupleType).Elem()
	field := func(i int) (any, error) {
		switch x := v.(type) {
		case []any:
			if len(x) != len(t.TupleElems) {
				return nil, fmt.Errorf("want %d fields, got %d", len(t.TupleElems), len(x))
			}
			return x[i], nil
		case map[string]any:
			e, ok := x[t.TupleRawNames[i]]
			if !ok {
				return nil, fmt.Errorf("field %q is missing", t.TupleRawNames[i])
			}
			return e, nil
		}
		return nil, fmt.Errorf("want a map of fields or a list, got %T", v)
	}
	if m, ok := v.(map[string]any); ok && len(m) != len(t.TupleElems) {
		return reflect.Value{}, fmt.Errorf("want the fields %s, got %d field(s)", strings.Join(t.TupleRawNames, ", "), len(m))
	}
	for i, et := range t.TupleElems {
		e, err := field(i)
		if err != nil {
			return reflect.Value{}, err
		}
		ev, err := toABI(*et, e)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("field %s: %w", t.TupleRawNames[i], err)
		}
		out.Field(i).Set(ev)
	}
	return out, nil
}

// toBigInt reads an integer: an int, a whole float, or a decimal or 0x
// string (for numbers beyond an int's range).
func toBigInt(v any) (*big.Int, error) {
	switch x := v.(type) {
	case int:
		return big.NewInt(int64(x)), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("%v is not an integer an exact number can hold: give it as a string", x)
		}
		return big.NewInt(int64(x)), nil
	case string:
		n, ok := new(big.Int).SetString(strings.TrimSpace(x), 0)
		if !ok {
			return nil, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return nil, fmt.Errorf("want an integer, got %T", v)
}

// intValue range-checks n for t and returns it as t's Go type (int8 …
// uint64, or *big.Int for the other sizes).
func intValue(t abi.Type, n *big.Int) (reflect.Value, error) {
	lo, hi := new(big.Int), new(big.Int).Lsh(big.NewInt(1), uint(t.Size))
	if t.T == abi.IntTy {
		hi.Rsh(hi, 1)
		lo.Neg(hi)
	}
	if n.Cmp(lo) < 0 || n.Cmp(hi) >= 0 {
		return reflect.Value{}, fmt.Errorf("%s is out of range for %s", n, t.String())
	}
	rt := t.GetType()
	switch rt.Kind() {
	case reflect.Ptr:
		return reflect.ValueOf(n), nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return reflect.ValueOf(n.Int64()).Convert(rt), nil
	default:
		return reflect.ValueOf(n.Uint64()).Convert(rt), nil
	}
}

func toBytes(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a 0x… hex string, got %T", v)
	}
	b, err := hexutil.Decode(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not 0x… hex: %v", s, err)
	}
	return b, nil
}

// fromABI converts a value abi.Unpack returned for t to a runbook value:
// integers up to 48 bits as int and wider ones as decimal strings (the
// protocol carries numbers as float64), addresses checksummed, bytes as
// 0x… hex, lists, and tuples as maps by field name.
func fromABI(t abi.Type, v reflect.Value) any {
	for v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		if b, ok := v.Interface().(*big.Int); ok {
			return intOut(t, b)
		}
		v = v.Elem()
	}
	switch t.T {
	case abi.IntTy:
		return intOut(t, big.NewInt(v.Int()))
	case abi.UintTy:
		return intOut(t, new(big.Int).SetUint64(v.Uint()))
	case abi.BoolTy:
		return v.Bool()
	case abi.StringTy:
		return v.String()
	case abi.AddressTy:
		return v.Interface().(common.Address).Hex()
	case abi.BytesTy:
		return hexutil.Encode(v.Bytes())
	case abi.FixedBytesTy, abi.HashTy, abi.FunctionTy:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return hexutil.Encode(b)
	case abi.SliceTy, abi.ArrayTy:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = fromABI(*t.Elem, v.Index(i))
		}
		return out
	case abi.TupleTy:
		out := map[string]any{}
		for i, et := range t.TupleElems {
			name := t.TupleRawNames[i]
			if name == "" {
				name = strconv.Itoa(i)
			}
			out[name] = fromABI(*et, v.Field(i))
		}
		return out
	}
	return fmt.Sprint(v.Interface())
}

func intOut(t abi.Type, n *big.Int) any {
	if t.Size <= 48 {
		return int(n.Int64())
	}
	return n.String()
}

// unpackOutputs decodes a call's return data to runbook values.
func unpackOutputs(args abi.Arguments, data []byte) ([]any, error) {
	vals, err := args.Unpack(data)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = fromABI(args[i].Type, reflect.ValueOf(v))
	}
	return out, nil
}
