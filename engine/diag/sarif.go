package diag

import (
	"encoding/json"
	"io"
	"path/filepath"
	"sort"
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
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
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
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// WriteSARIF prints the diagnostics as a SARIF 2.1.0 log for code scanning.
func WriteSARIF(w io.Writer, l List, toolVersion string) error {
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
		rules[i] = sarifRule{ID: n, ShortDescription: sarifMessage{Text: "runbook rule " + n}}
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
				ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(d.File)},
				Region:           sarifRegion{StartLine: max(d.Pos.Line, 1), StartColumn: max(d.Pos.Col, 1)},
			}}},
		})
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: sarifDriver{Name: "runbook", Version: toolVersion, Rules: rules}}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
