package drill

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// safeChecks check, by runbook, what must hold when a run failed: a chaos
// drill's run may fail, but safely, leaving nothing half-done (see
// runbook drill --chaos). Host.Verify reports them with Safe set, besides
// the end-state checks; like those, they observe what a user would.
var safeChecks = map[string]func(ctx context.Context, w *World, st *Stage) []Check{
	"neon-pitr":              safeNeonPITR,
	"contract-emergency":     safeContractEmergency,
	"dump-restore":           safeDumpRestore,
	"jwt-secret-rotation":    safeJWTRotation,
	"render-region-failover": safeRegionFailover,
	"cache-rehydrate":        safeCacheRehydrate,
}

// safeNeonPITR: the runbook suspends both writers; a failed run's undo
// must resume them (Render API).
func safeNeonPITR(ctx context.Context, w *World, _ *Stage) []Check {
	render, _ := w.Render()
	var out []Check
	for _, name := range pitrServices {
		svc, err := renderService(ctx, render.URL(), render.APIKey(), name)
		out = append(out, check(name+" not left suspended (Render API)", err == nil && svc.Suspended == renderemu.NotSuspended,
			"suspended=%s %s", svc.Suspended, errText(err)))
	}
	return out
}

// safeContractEmergency: whatever step failed, no asset is lost: the
// ether and each token are in the old contract or in the multisig (RPC).
func safeContractEmergency(ctx context.Context, w *World, _ *Stage) []Check {
	cs, _ := w.recall("contract").(contractState)
	c, err := w.Chain(ctx)
	if err != nil || cs.funds == nil {
		return []Check{check("no ether lost", false, "the chain or the staged contract is gone %s", errText(err))}
	}
	left, err1 := c.Balance(ctx, cs.old)
	moved, err2 := c.Balance(ctx, cs.multisig)
	sum := new(big.Int)
	if left != nil && moved != nil {
		sum.Add(left, moved)
	}
	out := []Check{check("no ether lost: the old contract and the multisig hold it all", err1 == nil && err2 == nil && sum.Cmp(cs.funds) == 0,
		"old contract %s wei + multisig %s wei (want %s in all) %s%s", left, moved, cs.funds, errText(err1), errText(err2))}
	for i, tok := range cs.tokens {
		sym := cs.symbols[i]
		left, lerr := callUint(ctx, c, cs.token, tok, "balanceOf", cs.old)
		held, herr := callUint(ctx, c, cs.token, tok, "balanceOf", cs.multisig)
		sum := new(big.Int)
		if left != nil && held != nil {
			sum.Add(left, held)
		}
		out = append(out, check("no "+sym+" lost: the old contract and the multisig hold it all", lerr == nil && herr == nil && sum.Cmp(cs.tokenFunds) == 0,
			"old contract %s + multisig %s (want %s in all) %s%s", left, held, cs.tokenFunds, errText(lerr), errText(herr)))
	}
	return out
}

// safeDumpRestore: the services never point at a partial restore: if
// DATABASE_URL reaches the recovery database, it holds every user of the
// dump (Render API, then SQL through it).
func safeDumpRestore(ctx context.Context, w *World, _ *Stage) []Check {
	pg, _ := w.Postgres(ctx)
	render, _ := w.Render()
	dbURL, err := renderGroupVar(ctx, render, "production", "DATABASE_URL")
	if err != nil {
		return []Check{check("DATABASE_URL never points at a partial restore", false, "%v", err)}
	}
	recovery := fmt.Sprintf("%s:%d/%s", pg.Host(), pg.Port(), recoveryDB)
	if urlTarget(dbURL) != recovery {
		return []Check{check("DATABASE_URL never points at a partial restore", true, "it still reaches %s, not the recovery database", urlTarget(dbURL))}
	}
	users, _, _, _, err := restoredCounts(ctx, dbURL)
	return []Check{check("DATABASE_URL never points at a partial restore", err == nil && users == dumpUsers,
		"it reaches the recovery database, which holds %d users (want %d) %s", users, dumpUsers, errText(err))}
}

// safeJWTRotation: both services keep serving, whichever secret they run
// with (HTTP).
func safeJWTRotation(ctx context.Context, w *World, _ *Stage) []Check {
	app, _ := w.App()
	var out []Check
	for _, name := range []string{jwtService, "blockchain-monitor"} {
		code, body := drillGet(ctx, app.HealthURL(name))
		out = append(out, check(name+" still serving", code == http.StatusOK, "GET %s/healthz: %d %s", name, code, strings.TrimSpace(body)))
	}
	return out
}

// safeRegionFailover: the API's name never dangles: through a resolver,
// api.alpha-orion.com names either the service users reached before the
// incident (its region is down, so Render's API cannot list it) or a
// frankfurt API service Render's API lists. The failed region's outage is
// the incident, so the API answering is not asked of a failed run.
func safeRegionFailover(ctx context.Context, w *World, _ *Stage) []Check {
	const name = "api.alpha-orion.com names a service users can be sent to (DNS, Render API)"
	rs, _ := w.recall("region").(regionState)
	dns, err := w.DNS()
	if err != nil {
		return []Check{check(name, false, "%v", err)}
	}
	records, err := dns.Lookup(ctx, regionAPIHost, "CNAME")
	if err != nil || len(records) != 1 {
		return []Check{check(name, false, "%s CNAME %v %s", regionAPIHost, records, errText(err))}
	}
	if records[0] == rs.before {
		return []Check{check(name, true, "it still names %s, the service from before the incident", rs.before)}
	}
	render, _ := w.Render()
	api, _, seen := regionServices(ctx, render)
	host := strings.TrimPrefix(api.ServiceDetails.URL, "https://")
	return []Check{check(name, host != "" && records[0] == host, "it names %s; %s", records[0], seen)}
}

// safeCacheRehydrate: a failed flush never takes the sessions with it
// (Redis, as a client reads it).
func safeCacheRehydrate(ctx context.Context, w *World, _ *Stage) []Check {
	cs, _ := w.recall("cache-rehydrate").(cacheState)
	srv, err := w.Redis(ctx)
	if err != nil {
		return []Check{check("session keys intact", false, "%v", err)}
	}
	rdb, err := redisClient(srv)
	if err != nil {
		return []Check{check("session keys intact", false, "%v", err)}
	}
	defer rdb.Close()
	return []Check{sessionsCheck(ctx, rdb, cs.sessions)}
}
