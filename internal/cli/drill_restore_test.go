package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/internal/testenv"

	"github.com/alpha-orion/runbook/internal/redisserver"
	"gopkg.in/yaml.v3"
)

// End-to-end drills of runbooks/dump-restore.yaml (plan 3.2) and
// runbooks/cache-rehydrate.yaml (plan 2, cache row), each with a variant
// holding a plausible mistake that the drill must report as FAILED.

// drillNeedsRedis skips the test without redis-server, or fails it under
// CI=true, where a skip would hide a hole.
func drillNeedsRedis(t *testing.T) {
	t.Helper()
	_, err := redisserver.FindBinary("")
	testenv.Missing(t, "redis-server", err)
}

func TestDrillDumpRestore(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "postgres")
	drillNeeds(t, "terraform")
	out := drillPassed(t, repoRunbooks(t), "dump-restore")
	// The newest dump is 30 minutes old, inside the RPO: no data-loss gate.
	if !strings.Contains(out, "rpo-gate") || !strings.Contains(out, "guard is false") {
		t.Errorf("rpo-gate was not skipped for a dump inside the RPO:\n%s", out)
	}
}

// A runbook that restores from the wrong backup set (the week-old weekly
// dump) runs to success, passes its own checks and serves a healthy API,
// but the drill sees that users were lost and the newest dump not used.
// The dump is older than the RPO, so the runbook's data-loss gate fires.
func TestDrillDumpRestoreCatchesWrongBackup(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "postgres")
	drillNeeds(t, "terraform")
	dir := runbookVariant(t, "dump-restore", func(doc *yaml.Node) {
		setScalar(t, doc, "weekly/", "params", "prefix", "default")
	})
	out := drillFailed(t, dir, "dump-restore",
		"restored database holds every user of the newest dump",
		"restored dump is the newest object")
	if !strings.Contains(out, "approve rpo-gate") {
		t.Errorf("the rpo-gate approval did not fire for a week-old dump:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^  run +\S+-dump-restore-\S+ succeeded`).MatchString(out) {
		t.Errorf("the mistaken runbook should itself succeed (only the drill's checks catch it):\n%s", out)
	}
}

func TestDrillCacheRehydrate(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "postgres")
	drillNeedsRedis(t)
	drillPassed(t, repoRunbooks(t), "cache-rehydrate")
}

// Flushing everything (a FLUSHALL by pattern) re-hydrates the cache just as
// well, but logs every user out and drops the job queue: the drill fails.
func TestDrillCacheRehydrateCatchesFlushedSessions(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "postgres")
	drillNeedsRedis(t)
	dir := runbookVariant(t, "cache-rehydrate", func(doc *yaml.Node) {
		setScalar(t, yamlStep(t, doc, "flush-ratelimit"), "*", "with", "pattern")
	})
	drillFailed(t, dir, "cache-rehydrate", "session keys intact", "keys no pattern names are kept")
}
