package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/run"
)

// resolveRun turns what a user typed for a run into its id: the id
// itself, `latest` (the newest run), or a unique prefix or suffix of one
// (20261203T0321, neon-pitr-60ecd5, 60ecd5). Ambiguous input lists the
// runs it matches.
func resolveRun(ctx context.Context, store journal.Store, typed string) (string, error) {
	ids, err := store.List(ctx)
	if err != nil {
		return "", err
	}
	if typed == "latest" {
		if len(ids) == 0 {
			return "", fmt.Errorf("no runs in %s", store)
		}
		return ids[len(ids)-1], nil // List is oldest first
	}
	var matches []string
	for _, id := range ids {
		if id == typed {
			return id, nil
		}
		if typed != "" && (strings.HasPrefix(id, typed) || strings.HasSuffix(id, typed)) {
			matches = append(matches, id)
		}
	}
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("no run %q in %s; see 'runbook history'", typed, store)
	case 1:
		return matches[0], nil
	}
	shown := matches
	if len(shown) > 5 {
		shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(matches)-5))
	}
	return "", fmt.Errorf("%q matches %d runs: %s; type more of the id", typed, len(matches), strings.Join(shown, ", "))
}

// waitingSteps lists the steps a paused run waits on, the pause's first.
func waitingSteps(res *run.Result) []string {
	out := []string{res.Pause.Step}
	var more []string
	for id, st := range res.Steps {
		if st.Status == journal.StatusPaused && id != res.Pause.Step {
			more = append(more, id)
		}
	}
	sort.Strings(more)
	return append(out, more...)
}
