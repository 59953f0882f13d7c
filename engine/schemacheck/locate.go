package schemacheck

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/alpha-orion/runbook/engine/diag"
)

// maxMergeDepth bounds how deep lookup follows "<<" merge keys into merged
// mappings; the converter has already refused anchors that contain themselves.
const maxMergeDepth = 16

// locate follows the tokens of a JSON pointer from root, the way the converter
// built values, and returns the node of the value they reach and, when the last
// token is a mapping key, that key's node. A value written as an alias is
// returned as the alias node, so findings point where the alias is used.
// Should a token not resolve, it returns the deepest node reached.
func locate(root *yaml.Node, path []string) (key, val *yaml.Node) {
	val = root
	for _, tok := range path {
		var k, v *yaml.Node
		switch n := deref(val); n.Kind {
		case yaml.MappingNode:
			k, v = lookup(n, tok, 0)
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
				v = n.Content[i]
			}
		}
		if v == nil {
			return key, val
		}
		key, val = k, v
	}
	return key, val
}

// deref returns the node an alias or a document stands for.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// lookup finds the key tok in mapping n with the converter's precedence: the
// last key written in n itself, else the merged mappings, later ones first.
func lookup(n *yaml.Node, tok string, depth int) (key, val *yaml.Node) {
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if k := n.Content[i]; !isMerge(k) && k.Value == tok {
			return k, n.Content[i+1]
		}
	}
	if depth >= maxMergeDepth {
		return nil, nil
	}
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if !isMerge(n.Content[i]) {
			continue
		}
		srcs := []*yaml.Node{n.Content[i+1]}
		if s := deref(n.Content[i+1]); s.Kind == yaml.SequenceNode {
			srcs = s.Content
		}
		for j := len(srcs) - 1; j >= 0; j-- {
			if m := deref(srcs[j]); m.Kind == yaml.MappingNode {
				if k, v := lookup(m, tok, depth+1); v != nil {
					return k, v
				}
			}
		}
	}
	return nil, nil
}

// pos is where n starts; nil is position 0:0, unknown.
func pos(n *yaml.Node) (p diag.Pos) {
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	return p
}
