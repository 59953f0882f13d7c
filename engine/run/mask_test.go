package run

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
)

// TestDerivedSecretsMasked runs steps whose inputs are computed from a
// secret and checks no computed text reaches the journal or the events.
func TestDerivedSecretsMasked(t *testing.T) {
	const secret = "Derived-5ecret-Value-77"
	for _, tc := range []struct {
		expr, derived string
	}{
		{`upper(secrets.TOKEN)`, strings.ToUpper(secret)},
		{`toBase64(secrets.TOKEN)`, base64.StdEncoding.EncodeToString([]byte(secret))},
		{`secrets.TOKEN[0:9]`, secret[0:9]},
		{`replace(secrets.TOKEN, '-', '_')`, strings.ReplaceAll(secret, "-", "_")},
		{`trimPrefix(secrets.TOKEN, 'Derived-')`, strings.TrimPrefix(secret, "Derived-")},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			f := newFixture(t, "derived", fmt.Sprintf(`
secrets: [TOKEN]
steps:
  - id: echo
    uses: test.echo
    with: {text: "${{ %[1]s }}"}
  - id: say
    uses: log
    with: {message: "value ${{ %[1]s }} end"}
`, tc.expr))
			f.secrets = map[string]string{"TOKEN": secret}
			res := f.run(nil, nil)
			want(t, res, journal.StatusSucceeded)
			if got := res.Steps["echo"].Outputs["text"]; got != tc.derived {
				t.Fatalf("the step must get the real value: got %v, want %q", got, tc.derived)
			}
			noText(t, f, tc.derived)
		})
	}
}

// TestShortAndStructuralSecrets runs with secrets that look like the
// journal's own keys and values, and checks the journal stays readable and
// the values equal to a secret are masked.
func TestShortAndStructuralSecrets(t *testing.T) {
	for _, secret := range []string{"2026", "true", "007", "seq", "step_succeeded", "{", "\"", "1"} {
		t.Run(secret, func(t *testing.T) {
			f := newFixture(t, "structural", `
secrets: [TOKEN]
steps:
  - id: echo
    uses: test.echo
    with: {secret: "${{ secrets.TOKEN }}", text: "${{ secrets.TOKEN }}", n: 3}
  - id: after
    uses: test.echo
    needs: [echo]
    with: {n: 2026, flag: true}
`)
			f.secrets = map[string]string{"TOKEN": secret}
			res := f.run(nil, nil)
			want(t, res, journal.StatusSucceeded)
			events, err := journal.Read(filepath.Join(f.dir, ".runbook"), res.RunID)
			if err != nil {
				t.Fatalf("journal unreadable: %v", err)
			}
			for i, e := range events {
				if e.Seq != i+1 || e.Time.Year() < 2000 || e.Type == "" {
					t.Fatalf("event %d lost its structure: %+v", i, e)
				}
				if e.Type == journal.StepStarted && e.Step == "echo" && e.Inputs["text"] != "***" {
					t.Errorf("the secret input text was journaled as %v", e.Inputs["text"])
				}
				if e.Type == journal.StepSucceeded && e.Step == "after" && (e.Outputs["n"] != float64(2026) || e.Outputs["flag"] != true) {
					t.Errorf("numbers and booleans must be kept: %v", e.Outputs)
				}
			}
		})
	}
}

// noText fails when text is in any file of the run's folder or any event.
func noText(t *testing.T, f *fixture, text string) {
	t.Helper()
	filepath.Walk(f.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		if data, _ := os.ReadFile(path); strings.Contains(string(data), text) {
			t.Errorf("%s holds %q", path, text)
		}
		return nil
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if s := fmt.Sprintf("%+v", e); strings.Contains(s, text) {
			t.Errorf("event holds %q: %s", text, s)
		}
	}
}
