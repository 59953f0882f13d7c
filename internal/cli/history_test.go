package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHistoryShowReportGraph runs two small runbooks, then reads them back
// with history, show and report, and draws one with graph.
func TestHistoryShowReportGraph(t *testing.T) {
	dir := t.TempDir()
	rbs := testdata(t)
	hello, err := filepath.Abs("../../examples/hello.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, dir, nil, "run", hello, "--as", "alice"); code != ExitOK {
		t.Fatalf("run hello: exit %d\n%s\n%s", code, out, errOut)
	}
	rec := filepath.Join(dir, "rec.jsonl")
	code, out, errOut := cli(t, dir, nil, "run", "--dir", rbs, "chain", "-p", "record_file="+rec, "-p", "pause=1ms", "--yes", "--as", "bob")
	if code != ExitOK {
		t.Fatalf("run chain: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = cli(t, dir, nil, "history")
	if code != ExitOK {
		t.Fatalf("history: exit %d\n%s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 3 || !strings.Contains(rows[0], "RTO USED") || !strings.Contains(rows[1], "chain") || !strings.Contains(rows[2], "hello") {
		t.Fatalf("history: want a header, then chain (newest), then hello:\n%s", out)
	}
	if !strings.Contains(rows[1], "bob") || !strings.Contains(rows[1], "succeeded") || !strings.Contains(rows[1], "% of 1h") {
		t.Errorf("history row lacks who, status or RTO used: %s", rows[1])
	}
	chainID := strings.Fields(rows[1])[0]

	code, out, _ = cli(t, dir, nil, "history", "hello", "--format", "json")
	var entries []historyEntry
	if code != ExitOK || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 || entries[0].Runbook != "hello" || entries[0].User != "alice" {
		t.Errorf("history hello --format json: exit %d, %+v\n%s", code, entries, out)
	}
	if entries[0].RTOUsed != nil {
		t.Errorf("hello has no RTO, but history reports %d%% used", *entries[0].RTOUsed)
	}

	code, out, _ = cli(t, dir, nil, "show", chainID)
	for _, want := range []string{"run " + chainID + " of chain", "Timeline:", "r6", "Approvals:", "confirm  bob", "RTO 1h"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	if code, out, _ := cli(t, dir, nil, "show", "--format", "json", chainID); code != ExitOK || !strings.Contains(out, `"approvals"`) {
		t.Errorf("show --format json: exit %d\n%.500s", code, out)
	}

	code, out, _ = cli(t, dir, nil, "report", chainID)
	for _, want := range []string{"# Incident report: chain", "## Timeline", "## Approvals", "sha256", "| RTO | 1h: "} {
		if !strings.Contains(out, want) {
			t.Errorf("report (md) lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	page := filepath.Join(dir, "report.html")
	if code, _, errOut := cli(t, dir, nil, "report", chainID, "--format", "html", "-o", page); code != ExitOK {
		t.Fatalf("report --format html: exit %d\n%s", code, errOut)
	}
	html, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(html), "<svg") || !strings.Contains(string(html), "Incident report: chain") {
		t.Errorf("HTML report: %v\n%.500s", err, html)
	}

	code, out, _ = cli(t, dir, nil, "graph", "--dir", rbs, "chain")
	if code != ExitOK || !strings.HasPrefix(out, "%% chain") || !strings.Contains(out, "🔒 r1") || !strings.Contains(out, "s_0 --> s_1") {
		t.Errorf("graph chain: exit %d\n%s", code, out)
	}
	gated, err := filepath.Abs("../../examples/gated-maintenance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, dir, nil, "graph", "--format", "dot", gated)
	if code != ExitOK || !strings.Contains(out, "cluster_on_failure") || !strings.Contains(out, "style=dashed") {
		t.Errorf("graph --format dot: exit %d\n%s", code, out)
	}
}

func TestHistoryShowReportGraphRefuseBadInput(t *testing.T) {
	dir := t.TempDir()
	cycle, err := filepath.Abs("../../engine/lint/testdata/err/cycle.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"show", "nosuch"}, ExitUsage, "show:"},
		{[]string{"show"}, ExitUsage, "show takes one argument"},
		{[]string{"report", "--format", "pdf", "x"}, ExitUsage, `unknown --format "pdf"`},
		{[]string{"report", "nosuch"}, ExitUsage, "report:"},
		{[]string{"history", "--format", "xml"}, ExitUsage, `unknown --format "xml"`},
		{[]string{"graph", "--format", "png", "x"}, ExitUsage, `unknown --format "png"`},
		{[]string{"graph", "--dir", testdata(t), "nosuch"}, ExitUsage, `no runbook named "nosuch"`},
		{[]string{"graph", cycle}, ExitFailed, "cycle"},
	} {
		code, out, errOut := cli(t, dir, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, want %d; stderr lacks %q?\n%s\n%s", tc.args, code, tc.code, tc.msg, out, errOut)
		}
	}
	if code, out, _ := cli(t, dir, nil, "history"); code != ExitOK || !strings.Contains(out, "no runs in") {
		t.Errorf("history with no runs: exit %d\n%s", code, out)
	}
}

// TestDamagedJournals: a journal damaged in the middle is listed by status
// and history as damaged with its line, never hidden, and resume refuses
// it; a journal torn at its tail resumes after a journal_repaired event.
func TestDamagedJournals(t *testing.T) {
	dir := t.TempDir()
	hello, err := filepath.Abs("../../examples/hello.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 2; i++ {
		code, out, errOut := cli(t, dir, nil, "run", hello, "--as", "alice", "--output", "json")
		if code != ExitOK {
			t.Fatalf("run hello: exit %d\n%s\n%s", code, out, errOut)
		}
		var first struct{ Run string }
		json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first)
		if first.Run == "" {
			t.Fatalf("no run id in %.300s", out)
		}
		ids = append(ids, first.Run)
	}
	path := func(id string) string { return filepath.Join(dir, ".runbook", "runs", id+".jsonl") }
	// Damage the first in its second line.
	data, _ := os.ReadFile(path(ids[0]))
	at := strings.IndexByte(string(data), '\n') + 15
	data[at] ^= 0x01
	os.WriteFile(path(ids[0]), data, 0o600)
	// Tear the second's last record, as a crash mid-write does.
	data, _ = os.ReadFile(path(ids[1]))
	os.WriteFile(path(ids[1]), data[:len(data)-20], 0o600)

	for _, args := range [][]string{{"status"}, {"history"}, {"history", "hello"}} {
		code, out, errOut := cli(t, dir, nil, args...)
		if code != ExitOK || !strings.Contains(out, ids[0]) || !strings.Contains(out, "damaged") || !strings.Contains(out, "line 2: checksum mismatch") {
			t.Errorf("%s: exit %d, want %s listed as damaged with its line:\n%s\n%s", args, code, ids[0], out, errOut)
		}
		if !strings.Contains(out, ids[1]) {
			t.Errorf("%s: the torn run %s is not listed:\n%s", args, ids[1], out)
		}
	}
	code, out, _ := cli(t, dir, nil, "history", "--format", "json")
	var entries []historyEntry
	json.Unmarshal([]byte(out), &entries)
	found := false
	for _, e := range entries {
		found = found || (e.Run == ids[0] && e.Status == StatusDamaged && e.Runbook == "hello" && strings.Contains(e.Reason, "line 2"))
	}
	if code != ExitOK || !found {
		t.Errorf("history --format json: no damaged entry for %s:\n%s", ids[0], out)
	}
	if code, _, errOut := cli(t, dir, nil, "resume", ids[0]); code == ExitOK || !strings.Contains(errOut, "line 2") {
		t.Errorf("resume of a damaged journal: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := cli(t, dir, nil, "resume", ids[1]); code != ExitOK {
		t.Fatalf("resume of a torn journal: exit %d\n%s\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(path(ids[1])); !strings.Contains(string(data), `"journal_repaired"`) {
		t.Error("resume did not record journal_repaired")
	}
	if code, out, _ := cli(t, dir, nil, "show", ids[1]); code != ExitOK {
		t.Errorf("show after repair: exit %d\n%s", code, out)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"1MiB", 1 << 20, true},
		{"512KiB", 512 << 10, true},
		{"16 MB", 16 << 20, true},
		{"2GiB", 0, false}, // over what an int32-sized message can carry
		{"0", 0, false},
		{"-5", 0, false},
		{"lots", 0, false},
		{"1.5MiB", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
