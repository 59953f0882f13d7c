package sdk

import (
	"reflect"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
)

type named string

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	n := 5
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"int", 3, 3},
		{"negative int", -7, -7},
		{"int64", int64(1 << 40), 1 << 40},
		{"big int", int64(1<<62 + 1), "4611686018427387905"},
		{"big uint", uint64(1 << 63), "9223372036854775808"},
		{"float", 2.5, 2.5},
		{"integral float", 3.0, 3},
		{"named string", named("x"), "x"},
		{"typed slice", []string{"a", "b"}, []any{"a", "b"}},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": 1}},
		{"pointer", &n, 5},
		{"nil pointer", (*int)(nil), nil},
		{"struct via JSON", struct {
			A int    `json:"a"`
			B string `json:"b"`
		}{1, "x"}, map[string]any{"a": 1, "b": "x"}},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05Z"},
		{"duration", 90 * time.Second, "1m30s"},
		{"bytes", []byte("hi"), "aGk="},
		{"rows", []map[string]any{{"a": 1}}, []any{map[string]any{"a": 1}}},
	}
	for _, tt := range tests {
		v, err := encodeValue(tt.in)
		if err != nil {
			t.Errorf("%s: encode: %v", tt.name, err)
			continue
		}
		if got := decodeValue(v); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, got, tt.want)
		}
	}
}

func TestCoerceRestoresDeclaredTypes(t *testing.T) {
	t.Parallel()
	fields := []catalog.Field{
		{Name: "n", Type: catalog.Int},
		{Name: "x", Type: catalog.Number},
		{Name: "at", Type: catalog.Timestamp},
		{Name: "d", Type: catalog.Duration},
		{Name: "big", Type: catalog.Int},
	}
	at := time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)
	s, err := encodeMap(map[string]any{"n": 3, "x": 4, "at": at, "d": time.Hour, "big": 1<<60 + 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := coerce(fields, decodeMap(s), "input", true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": 3, "x": 4.0, "at": at, "d": time.Hour, "big": 1<<60 + 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestRetimeRows(t *testing.T) {
	rows := []any{map[string]any{"newest": "2024-05-20T10:00:00.5Z", "email": "a@b.c", "n": 3, "odd": "2024-05-20T99:00:00Z"}}
	retimeRows(rows)
	row := rows[0].(map[string]any)
	if ts, ok := row["newest"].(time.Time); !ok || ts.Nanosecond() != 5e8 {
		t.Errorf("newest = %#v, want a time", row["newest"])
	}
	if row["email"] != "a@b.c" || row["n"] != 3 || row["odd"] != "2024-05-20T99:00:00Z" {
		t.Errorf("other values changed: %#v", row)
	}
}
