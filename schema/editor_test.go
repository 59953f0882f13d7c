package schema

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/testenv"
	"github.com/alpha-orion/runbook/plugins/providers"
)

// The editor test drives yaml-language-server, the server behind the YAML
// extensions of VS Code, Neovim and others, over LSP with the generated
// schema, as a person writing a runbook would meet it.

// editorDir holds the pinned yaml-language-server (package.json and its lock).
const editorDir = "testdata/editor"

// lsp is a JSON-RPC connection to a language server.
type lsp struct {
	t     *testing.T
	in    io.Writer
	out   *bufio.Reader
	next  int
	diags map[string][]map[string]any // publishDiagnostics by URI
}

func startEditor(t *testing.T) *lsp {
	t.Helper()
	node, err := exec.LookPath("node")
	testenv.Missing(t, "node (for yaml-language-server)", err)
	server := filepath.Join(editorDir, "node_modules", "yaml-language-server", "bin", "yaml-language-server")
	if _, err := os.Stat(server); err != nil {
		npm, err := exec.LookPath("npm")
		testenv.Missing(t, "npm (to install yaml-language-server)", err)
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = editorDir
		out, err := cmd.CombinedOutput()
		testenv.Missing(t, "npm ci in "+editorDir, wrap(err, out))
	}
	cmd := exec.Command(node, server, "--stdio")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	return &lsp{t: t, in: stdin, out: bufio.NewReader(stdout), diags: map[string][]map[string]any{}}
}

func wrap(err error, out []byte) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w\n%s", err, out)
}

func (l *lsp) send(msg map[string]any) {
	msg["jsonrpc"] = "2.0"
	b, err := json.Marshal(msg)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := fmt.Fprintf(l.in, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
		l.t.Fatal(err)
	}
}

// read returns the next message from the server.
func (l *lsp) read() map[string]any {
	n := 0
	for {
		line, err := l.out.ReadString('\n')
		if err != nil {
			l.t.Fatalf("language server: %v", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(l.out, b); err != nil {
		l.t.Fatal(err)
	}
	var msg map[string]any
	if err := json.Unmarshal(b, &msg); err != nil {
		l.t.Fatal(err)
	}
	return msg
}

// handle answers the server's own requests and keeps its diagnostics.
func (l *lsp) handle(msg map[string]any) {
	method, _ := msg["method"].(string)
	if id, ok := msg["id"]; ok && method != "" {
		var result any
		if method == "workspace/configuration" {
			result = []any{map[string]any{"validate": true, "completion": true, "hover": true}}
		}
		l.send(map[string]any{"id": id, "result": result})
	}
	if method == "textDocument/publishDiagnostics" {
		p, _ := msg["params"].(map[string]any)
		uri, _ := p["uri"].(string)
		var ds []map[string]any
		list, _ := p["diagnostics"].([]any)
		for _, d := range list {
			m, _ := d.(map[string]any)
			ds = append(ds, m)
		}
		l.diags[uri] = ds
	}
}

// call sends a request and returns its result, handling what comes before.
func (l *lsp) call(method string, params any) any {
	l.next++
	id := l.next
	l.send(map[string]any{"id": id, "method": method, "params": params})
	for {
		msg := l.read()
		if got, ok := msg["id"].(float64); ok && int(got) == id && msg["method"] == nil {
			if e, ok := msg["error"]; ok {
				l.t.Fatalf("%s: %v", method, e)
			}
			return msg["result"]
		}
		l.handle(msg)
	}
}

// waitDiagnostics reads messages until the server publishes diagnostics for uri.
func (l *lsp) waitDiagnostics(uri string) []map[string]any {
	delete(l.diags, uri)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ds, ok := l.diags[uri]; ok {
			return ds
		}
		l.handle(l.read())
	}
	l.t.Fatalf("no diagnostics for %s", uri)
	return nil
}

func (l *lsp) open(uri, text string) {
	l.send(map[string]any{"method": "textDocument/didOpen", "params": map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
}

// complete returns the labels the server offers at line:char (from 0),
// sorted; kind, when not 0, keeps only items of that CompletionItemKind.
func (l *lsp) complete(uri string, line, char int, kind float64) []string {
	res := l.call("textDocument/completion", map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"position":     map[string]any{"line": line, "character": char},
	})
	var items []any
	switch r := res.(type) {
	case map[string]any:
		items, _ = r["items"].([]any)
	case []any:
		items = r
	}
	var labels []string
	for _, it := range items {
		m, _ := it.(map[string]any)
		if k, _ := m["kind"].(float64); kind != 0 && k != kind {
			continue
		}
		if s, ok := m["label"].(string); ok {
			labels = append(labels, s)
		}
	}
	slices.Sort(labels)
	return labels
}

// kindProperty is LSP's CompletionItemKind for a key of an object.
const kindProperty = 10

func fileURI(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// TestEditorCompletesAndChecksActions opens runbooks in yaml-language-server
// with the schema and asks what a person typing would see.
func TestEditorCompletesAndChecksActions(t *testing.T) {
	l := startEditor(t)
	dir := t.TempDir()
	l.call("initialize", map[string]any{
		"processId": os.Getpid(), "rootUri": fileURI(dir),
		"capabilities": map[string]any{"textDocument": map[string]any{
			"completion":         map[string]any{"completionItem": map[string]any{"snippetSupport": false}},
			"publishDiagnostics": map[string]any{},
		}},
	})
	l.send(map[string]any{"method": "initialized", "params": map[string]any{}})
	l.send(map[string]any{"method": "workspace/didChangeConfiguration", "params": map[string]any{
		"settings": map[string]any{"yaml": map[string]any{"validate": true, "completion": true, "hover": true}}}})

	cat := catalog.MustNew(providers.Specs()...)
	head := "# yaml-language-server: $schema=" + fileURI("runbook.schema.json") + "\n" +
		"apiVersion: runbook/v1\nkind: Runbook\nmetadata:\n  name: editor\nsteps:\n  - id: a\n"

	t.Run("uses offers every action", func(t *testing.T) {
		uri := fileURI(filepath.Join(dir, "uses.yaml"))
		l.open(uri, head+"    uses: \n")
		got := l.complete(uri, 7, 10, 0)
		for _, name := range cat.ActionNames() {
			if !slices.Contains(got, name) {
				t.Errorf("uses: does not offer %s; offered %q", name, got)
			}
		}
	})

	for _, uses := range []string{"render.deploy", "redis.set_from_rows", "wait"} {
		t.Run("with offers the inputs of "+uses, func(t *testing.T) {
			a, _ := cat.Action(uses)
			uri := fileURI(filepath.Join(dir, uses+".yaml"))
			l.open(uri, head+"    uses: "+uses+"\n    with:\n      \n")
			got := l.complete(uri, 9, 6, kindProperty)
			var want []string
			for _, f := range a.Inputs {
				want = append(want, f.Name)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("with: of %s offers %q, want its inputs %q", uses, got, want)
			}
		})
	}

	t.Run("typo'd input and missing input flagged", func(t *testing.T) {
		uri := fileURI(filepath.Join(dir, "typo.yaml"))
		l.open(uri, head+"    uses: render.deploy\n    with: { servce: api }\n")
		ds := l.waitDiagnostics(uri)
		var msgs []string
		for _, d := range ds {
			msg, _ := d["message"].(string)
			msgs = append(msgs, msg)
		}
		text := strings.Join(msgs, "\n")
		if !strings.Contains(text, "servce") || !strings.Contains(text, "service") {
			t.Errorf("want the unknown input servce and the missing input service flagged, got:\n%s", text)
		}
	})

	t.Run("wrong type flagged", func(t *testing.T) {
		uri := fileURI(filepath.Join(dir, "type.yaml"))
		l.open(uri, head+"    uses: render.scale\n    with: { service: api, instances: many }\n")
		if ds := l.waitDiagnostics(uri); len(ds) == 0 {
			t.Error("instances: many is not flagged")
		}
	})

	t.Run("plugins offers a plugin's configuration", func(t *testing.T) {
		p, _ := cat.Plugin("redis")
		uri := fileURI(filepath.Join(dir, "config.yaml"))
		src := strings.Replace(head, "steps:", "plugins:\n  redis:\n    \nsteps:", 1) + "    uses: redis.ping\n"
		l.open(uri, src)
		got := l.complete(uri, 7, 4, kindProperty)
		var want []string
		for _, f := range p.Config {
			want = append(want, f.Name)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("plugins.redis offers %q, want its settings %q", got, want)
		}
	})

	t.Run("hover on an input shows its description", func(t *testing.T) {
		a, _ := cat.Action("render.deploy")
		f, _ := a.Input("clear_cache")
		uri := fileURI(filepath.Join(dir, "hover.yaml"))
		l.open(uri, head+"    uses: render.deploy\n    with:\n      clear_cache: true\n")
		res, _ := l.call("textDocument/hover", map[string]any{
			"textDocument": map[string]any{"uri": uri},
			"position":     map[string]any{"line": 9, "character": 8},
		}).(map[string]any)
		b, _ := json.Marshal(res["contents"])
		if f.Description == "" || !strings.Contains(string(b), f.Description) {
			t.Errorf("hover on clear_cache shows %s, want its description %q", b, f.Description)
		}
	})

	t.Run("clean runbook has no diagnostics", func(t *testing.T) {
		uri := fileURI(filepath.Join(dir, "clean.yaml"))
		l.open(uri, head+"    uses: render.scale\n    with: { service: api, instances: \"${{ params.n }}\" }\n")
		if ds := l.waitDiagnostics(uri); len(ds) > 0 {
			t.Errorf("unexpected diagnostics: %v", ds)
		}
	})
}
