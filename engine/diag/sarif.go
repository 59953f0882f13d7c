package diag

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string        `json:"id"`
	ShortDescription sarifMessage  `json:"shortDescription"`
	FullDescription  *sarifMessage `json:"fullDescription,omitempty"`
	Help             *sarifHelp    `json:"help,omitempty"`
	HelpURI          string        `json:"helpUri,omitempty"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// SARIFOptions say how WriteSARIF describes the tool and the files.
type SARIFOptions struct {
	// ToolVersion is the runbook version that made the log.
	ToolVersion string
	// Root is the absolute folder URIs are relative to (the repository's
	// root, for code scanning); files outside it get absolute file URIs.
	// Empty means the working directory.
	Root string
}

// WriteSARIF prints the diagnostics as a SARIF 2.1.0 log for code scanning:
// every rule with its description and help from docs/rules.md, and file
// URIs relative to opts.Root, percent-encoded, based at %SRCROOT%.
func WriteSARIF(w io.Writer, l List, opts SARIFOptions) error {
	index := map[string]int{}
	var names []string
	for _, d := range l {
		if _, ok := index[d.Rule]; !ok {
			index[d.Rule] = 0
			names = append(names, d.Rule)
		}
	}
	sort.Strings(names)
	rules := make([]sarifRule, len(names))
	for i, n := range names {
		index[n] = i
		rules[i] = sarifRuleOf(n)
	}
	results := make([]sarifResult, 0, len(l))
	for _, d := range l {
		level := "error"
		if d.Severity == Warning {
			level = "warning"
		}
		results = append(results, sarifResult{
			RuleID: d.Rule, RuleIndex: index[d.Rule], Level: level, Message: sarifMessage{Text: d.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: artifact(d.File, opts.Root),
				Region:           sarifRegion{StartLine: max(d.Pos.Line, 1), StartColumn: max(d.Pos.Col, 1)},
			}}},
		})
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: sarifDriver{Name: "runbook", Version: opts.ToolVersion, InformationURI: RulesURL, Rules: rules}}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifRuleOf(id string) sarifRule {
	doc, ok := Rule(id)
	if !ok {
		return sarifRule{ID: id, ShortDescription: sarifMessage{Text: "runbook rule " + id}}
	}
	return sarifRule{
		ID:               id,
		ShortDescription: sarifMessage{Text: doc.Short},
		FullDescription:  &sarifMessage{Text: doc.Full},
		Help:             &sarifHelp{Text: doc.Full + " See " + doc.HelpURI(), Markdown: doc.Full + "\n\n[" + id + " in docs/rules.md](" + doc.HelpURI() + ")"},
		HelpURI:          doc.HelpURI(),
	}
}

// artifact locates file for SARIF: relative to root and based at
// %SRCROOT% when inside it, else an absolute file URI; percent-encoded.
func artifact(file, root string) sarifArtifact {
	abs, err := filepath.Abs(file)
	if err != nil {
		return sarifArtifact{URI: escapePath(filepath.ToSlash(file))}
	}
	if root == "" {
		root, _ = os.Getwd()
	}
	if rel, err := filepath.Rel(root, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return sarifArtifact{URI: escapePath(filepath.ToSlash(rel)), URIBaseID: "%SRCROOT%"}
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // a Windows drive: file:///C:/...
	}
	return sarifArtifact{URI: u.String()}
}

// escapePath percent-encodes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}
