package schemacheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// libraryValid is the verdict of the slow path: conversion and the library.
func libraryValid(root *yaml.Node) bool {
	c := newConverter()
	v := c.value(root)
	return c.bad == nil && validator().Validate(v) == nil
}

// TestQuickAgrees checks the fast path against the library on every test
// document and on thousands of mutants of them: quick may say "not sure"
// about a valid document, but must never accept an invalid one; and standing
// in for the steps quick accepts must not change the findings.
func TestQuickAgrees(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, f := range files {
		if strings.Contains(f, "bomb") {
			continue // each mutant would expand a million values
		}
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			root := parse(t, src).Content[0]
			validator()
			q, lib := quick(root, fast), libraryValid(root)
			if q && !lib {
				t.Fatalf("quick accepts the document, the library rejects it")
			}
			if lib && !q && !strings.Contains(f, "anchors") {
				t.Errorf("quick gives up on a valid document without aliases; the fast path is lost")
			}
			checked, accepted, lost := 0, 0, 0
			stride := 1
			if testing.Short() {
				stride = 7
			}
			for i := 0; i < len(preorder(root)); i += stride {
				for _, m := range mutations {
					mut := cloneNode(root, map[*yaml.Node]*yaml.Node{})
					if !m.apply(preorder(mut)[i]) {
						continue
					}
					checked++
					q, lib := quick(mut, fast), libraryValid(mut)
					if q && !lib {
						out, _ := yaml.Marshal(mut)
						t.Fatalf("mutation %q of node %d: quick accepts, the library rejects:\n%s", m.name, i, out)
					}
					if q {
						accepted++
					} else if lib {
						lost++
					}
					if !q && i%3 == 0 {
						if a, b := lines(slowCheck("m.yaml", mut, step)), lines(slowCheck("m.yaml", mut, nil)); a != b {
							out, _ := yaml.Marshal(mut)
							t.Fatalf("mutation %q of node %d: stand-ins change the findings\n%s--- from\n%s--- for\n%s", m.name, i, a, b, out)
						}
					}
				}
			}
			t.Logf("%d mutants: %d accepted by quick, %d valid ones left to the library", checked, accepted, lost)
		})
	}
}

// preorder lists the nodes of a tree, not following aliases.
func preorder(n *yaml.Node) []*yaml.Node {
	out := []*yaml.Node{n}
	for _, c := range n.Content {
		out = append(out, preorder(c)...)
	}
	return out
}

// cloneNode deep-copies a tree, pointing aliases at the copies of their anchors.
func cloneNode(n *yaml.Node, memo map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := memo[n]; ok {
		return c
	}
	c := new(yaml.Node)
	memo[n] = c
	*c = *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, e := range n.Content {
		c.Content[i] = cloneNode(e, memo)
	}
	c.Alias = cloneNode(n.Alias, memo)
	return c
}

type mutation struct {
	name  string
	apply func(n *yaml.Node) bool // false when it does not apply to n
}

// scalarMutation replaces a node by a scalar.
func scalarMutation(tag, value string) mutation {
	return mutation{tag + " " + value, func(n *yaml.Node) bool {
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Line: n.Line, Column: n.Column}
		return true
	}}
}

// pairMutation edits a mapping's first key/value pair.
func pairMutation(name string, edit func(n *yaml.Node)) mutation {
	return mutation{name, func(n *yaml.Node) bool {
		if n.Kind != yaml.MappingNode || len(n.Content) < 2 {
			return false
		}
		edit(n)
		return true
	}}
}

var mutations = []mutation{
	scalarMutation("!!int", "5"),
	scalarMutation("!!int", "0"),
	scalarMutation("!!int", "-1"),
	scalarMutation("!!int", "0x10"),
	scalarMutation("!!float", "1.5"),
	scalarMutation("!!float", "2.0"),
	scalarMutation("!!float", ".inf"),
	scalarMutation("!!bool", "true"),
	scalarMutation("!!null", ""),
	scalarMutation("!!str", "x"),
	scalarMutation("!!str", "Bad Id"),
	scalarMutation("!!str", "runbook/v1"),
	scalarMutation("!!str", "exponential"),
	scalarMutation("!!str", "NEON_API_KEY"),
	scalarMutation("!!timestamp", "2024-01-01"),
	scalarMutation("!custom", "x"),
	{"empty mapping", func(n *yaml.Node) bool {
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
		return true
	}},
	{"empty list", func(n *yaml.Node) bool {
		*n = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: n.Line, Column: n.Column}
		return true
	}},
	pairMutation("drop first key", func(n *yaml.Node) { n.Content = n.Content[2:] }),
	pairMutation("drop last key", func(n *yaml.Node) { n.Content = n.Content[:len(n.Content)-2] }),
	pairMutation("rename first key", func(n *yaml.Node) {
		k := *n.Content[0]
		k.Value += "x"
		n.Content[0] = &k
	}),
	pairMutation("repeat first key", func(n *yaml.Node) {
		n.Content = append(n.Content, n.Content[0], &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"})
	}),
	pairMutation("merge key", func(n *yaml.Node) {
		src := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{n.Content[0], n.Content[1]}}
		n.Content = append([]*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!merge", Value: "<<"}, src}, n.Content[2:]...)
	}),
	{"repeat first item", func(n *yaml.Node) bool {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			return false
		}
		n.Content = append(n.Content, n.Content[0])
		return true
	}},
	{"drop first item", func(n *yaml.Node) bool {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			return false
		}
		n.Content = n.Content[1:]
		return true
	}},
}
