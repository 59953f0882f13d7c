package terraform

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// TestSetDefaultEdits edits files of many shapes in process: the rest of
// each file must stay byte for byte as it was.
func TestSetDefaultEdits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		src      string
		in       map[string]any
		want     string // the file afterwards; "" means unchanged
		previous any
		changed  bool
		kind     sdk.Kind // "" means success
		msg      string
	}{
		{
			name:     "the plan's edit, comment kept",
			src:      "variable \"region\" {\n  default = \"oregon\" # Change from oregon\n}\n",
			in:       map[string]any{"variable": "region", "value": "frankfurt"},
			want:     "variable \"region\" {\n  default = \"frankfurt\" # Change from oregon\n}\n",
			previous: "oregon", changed: true,
		},
		{
			name:     "odd spacing kept",
			src:      "# top\nvariable   \"region\"   {\n\tdescription = \"x\"   # d\n\tdefault=\"oregon\"\n}\n\nvariable \"b\" {}\n",
			in:       map[string]any{"variable": "region", "value": "frankfurt"},
			want:     "# top\nvariable   \"region\"   {\n\tdescription = \"x\"   # d\n\tdefault=\"frankfurt\"\n}\n\nvariable \"b\" {}\n",
			previous: "oregon", changed: true,
		},
		{
			name:     "no default yet",
			src:      "variable \"region\" {\n    type = string\n}\n",
			in:       map[string]any{"variable": "region", "value": "frankfurt"},
			want:     "variable \"region\" {\n    type = string\n    default = \"frankfurt\"\n}\n",
			previous: nil, changed: true,
		},
		{
			name:     "empty one-line block",
			src:      "  variable \"region\" {}\n",
			in:       map[string]any{"variable": "region", "value": "frankfurt"},
			want:     "  variable \"region\" {\n    default = \"frankfurt\"\n  }\n",
			previous: nil, changed: true,
		},
		{
			name:     "one-line block with a type",
			src:      "variable \"n\" { type = number }\n",
			in:       map[string]any{"variable": "n", "value": "3"},
			want:     "variable \"n\" {\n  type = number\n  default = 3\n}\n",
			previous: nil, changed: true,
		},
		{
			name:     "number typed by the variable",
			src:      "variable \"n\" {\n  type    = number\n  default = 2\n}\n",
			in:       map[string]any{"variable": "n", "value": "3"},
			want:     "variable \"n\" {\n  type    = number\n  default = 3\n}\n",
			previous: 2, changed: true,
		},
		{
			name:     "list",
			src:      "variable \"regions\" {\n  type    = list(string)\n  default = [\"oregon\"]\n}\n",
			in:       map[string]any{"variable": "regions", "value": []any{"frankfurt", "oregon"}},
			want:     "variable \"regions\" {\n  type    = list(string)\n  default = [\"frankfurt\", \"oregon\"]\n}\n",
			previous: []any{"oregon"}, changed: true,
		},
		{
			name:     "bool",
			src:      "variable \"on\" {\n  default = false\n}\n",
			in:       map[string]any{"variable": "on", "value": true},
			want:     "variable \"on\" {\n  default = true\n}\n",
			previous: false, changed: true,
		},
		{
			name:     "already set",
			src:      "variable \"region\" {\n  default = \"frankfurt\"\n}\n",
			in:       map[string]any{"variable": "region", "value": "frankfurt"},
			previous: "frankfurt", changed: false,
		},
		{
			name:     "already set, as the type reads it",
			src:      "variable \"n\" {\n  type = number\n  default = 3\n}\n",
			in:       map[string]any{"variable": "n", "value": "3"},
			previous: 3, changed: false,
		},
		{
			name:     "an expression before",
			src:      "variable \"region\" {\n  default = lower(\"OREGON\")\n}\n",
			in:       map[string]any{"variable": "region", "value": "frankfurt"},
			want:     "variable \"region\" {\n  default = \"frankfurt\"\n}\n",
			previous: `lower("OREGON")`, changed: true,
		},
		{
			name:     "string with quotes and template syntax",
			src:      "variable \"motd\" {\n  default = \"\"\n}\n",
			in:       map[string]any{"variable": "motd", "value": `say "hi" ${x}`},
			want:     "variable \"motd\" {\n  default = \"say \\\"hi\\\" $${x}\"\n}\n",
			previous: "", changed: true,
		},
		{name: "wrong type", src: "variable \"n\" {\n  type = number\n}\n", in: map[string]any{"variable": "n", "value": "three"},
			kind: sdk.KindBadInput, msg: `variable "n" is a number: three does not fit`},
		{name: "not declared", src: "variable \"region\" {}\n", in: map[string]any{"variable": "zone", "value": "x"},
			kind: sdk.KindNotFound, msg: `no .tf file in`},
		{name: "bad name", src: "variable \"region\" {}\n", in: map[string]any{"variable": "a b", "value": "x"},
			kind: sdk.KindBadInput, msg: `"a b" is not a variable name`},
		{name: "no value", src: "variable \"region\" {}\n", in: map[string]any{"variable": "region"},
			kind: sdk.KindBadInput, msg: "value is required"},
		{name: "file does not parse", src: "variable \"region\" {\n", in: map[string]any{"variable": "region", "value": "x"},
			kind: sdk.KindBadInput, msg: "main.tf does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "main.tf")
			if err := os.WriteFile(path, []byte(tt.src), 0o640); err != nil {
				t.Fatal(err)
			}
			s := &session{dir: dir, dirName: "terraform", log: discard{}}
			out, err := s.setDefault(sdk.Request{Action: "set_default", Inputs: tt.in, IdempotencyKey: "k"})
			if tt.kind != "" {
				if sdk.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err %v (kind %q), want %s saying %q", err, sdk.KindOf(err), tt.kind, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out["previous"], tt.previous) || out["changed"] != tt.changed || out["file"] != "main.tf" {
				t.Fatalf("outputs = %#v, want previous %#v, changed %v", out, tt.previous, tt.changed)
			}
			want := tt.want
			if want == "" {
				want = tt.src
			}
			got, _ := os.ReadFile(path)
			if string(got) != want {
				t.Fatalf("file:\n%s\nwant:\n%s", got, want)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Fatalf("mode %v, want 0640 kept", fi.Mode().Perm())
			}
		})
	}
}

func TestSetDefaultFindsTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.tf", "resource \"terraform_data\" \"x\" {}\n")
	write("variables.tf", "variable \"region\" {\n  default = \"oregon\"\n}\n")
	s := &session{dir: dir, dirName: "terraform", log: discard{}}
	out, err := s.setDefault(sdk.Request{Inputs: map[string]any{"variable": "region", "value": "frankfurt"}})
	if err != nil || out["file"] != "variables.tf" {
		t.Fatalf("set_default = %v, %v; want variables.tf changed", out, err)
	}
	write("other.tf", "variable \"region\" {}\n")
	_, err = s.setDefault(sdk.Request{Inputs: map[string]any{"variable": "region", "value": "frankfurt"}})
	if sdk.KindOf(err) != sdk.KindBadInput || !strings.Contains(err.Error(), "declared more than once (other.tf, variables.tf)") {
		t.Fatalf("err = %v, want the two files named", err)
	}
	_, err = s.setDefault(sdk.Request{Inputs: map[string]any{"variable": "region", "value": "x", "file": "main.tf"}})
	if sdk.KindOf(err) != sdk.KindNotFound || !strings.Contains(err.Error(), `main.tf declares no variable "region"`) {
		t.Fatalf("err = %v", err)
	}
}
