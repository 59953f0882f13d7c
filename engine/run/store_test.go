package run

import (
	"context"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
)

// stores are the backends every store-level engine test runs against.
var stores = map[string]func(t testing.TB, f *fixture) journal.Store{
	"folder": func(_ testing.TB, f *fixture) journal.Store { return journal.Folder(f.dir + "/.runbook") },
	"postgres": func(t testing.TB, _ *fixture) journal.Store {
		srv, db := pgtest.NewDatabase(t)
		st, err := journal.Open(context.Background(), srv.URL(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	},
}

// TestApprovalFromElsewhereBindsDigest: an approval journaled by another
// process (as 'runbook approve' does) lets a resume go on without asking,
// but only while the step's resolved inputs are those that were approved.
func TestApprovalFromElsewhereBindsDigest(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, "bind", `
steps:
  - {id: go, uses: test.record, confirm: "write it?", with: {value: "${{ env.TARGET }}"}}
`)
			st := open(t, f)
			options := func(target string, a Approver) Options {
				o := f.options(a)
				o.Store, o.StateDir, o.Env = st, "", map[string]string{"TARGET": target}
				return o
			}
			res, err := Start(ctx, options("primary", &approver{}))
			if err != nil {
				t.Fatal(err)
			}
			want(t, res, journal.StatusPaused)
			events, err := st.Read(ctx, res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			log, err := st.Append(ctx, res.RunID, len(events), redact.New())
			if err != nil {
				t.Fatal(err)
			}
			log.Write(journal.Event{Type: journal.ApprovalGranted, Step: "go", Kind: res.Pause.Kind, By: "dave", Digest: res.Pause.Digest}, true)
			log.Close()

			// The inputs changed (another target): the approval does not hold.
			a := &approver{}
			res2, _, err := Resume(ctx, options("replica", a), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res2, journal.StatusPaused)
			if len(a.asked) != 1 || a.asked[0].Digest == res.Pause.Digest {
				t.Errorf("asked %+v, want one request with a new digest", a.asked)
			}
			// The same inputs: it goes on dave's approval without asking.
			a = &approver{}
			res3, _, err := Resume(ctx, options("primary", a), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res3, journal.StatusSucceeded)
			if len(a.asked) != 0 {
				t.Errorf("asked again: %+v", a.asked)
			}
		})
	}
}
