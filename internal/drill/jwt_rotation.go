package drill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/internal/words"
)

// The jwt-secret-rotation drill (DR plan 5.1). Its world: the Render
// emulator seeded with Alpha-Orion's services and env group, whose
// JWT_SECRET is the leaked one; the fake application in front of it, whose
// API reads its users from a throwaway PostgreSQL (for the health check);
// and a token signed with the leaked secret that the API accepts before the
// run. The incident is the leak itself: nothing breaks, which is why the
// runbook must prove the old token stops working.

func init() {
	register(&Scenario{
		Runbook: "jwt-secret-rotation",
		Needs:   []string{"postgres"},
		Setup:   setupJWTRotation,
		Verify:  verifyJWTRotation,
	})
}

// jwtService is the service whose tokens the drill checks.
const jwtService = "user-api-service"

// jwtState is what the scenario remembers between setup and verify.
type jwtState struct {
	oldSecret string
	oldToken  string
}

func setupJWTRotation(ctx context.Context, w *World) (*Stage, error) {
	pg, err := w.Postgres(ctx)
	if err != nil {
		return nil, err
	}
	if err := pg.CreateDatabase(ctx, "alpha_orion"); err != nil {
		return nil, err
	}
	if err := seedUserTable(ctx, pg.URL("alpha_orion"), seedUsers); err != nil {
		return nil, err
	}
	render, err := w.Render()
	if err != nil {
		return nil, err
	}
	ao, err := render.SeedAlphaOrion(pg.URL("alpha_orion"))
	if err != nil {
		return nil, err
	}
	app, err := w.App()
	if err != nil {
		return nil, err
	}
	// The leaked secret is the one the seed put in the env group, and a
	// session token signed with it (the security team's canary).
	old := render.EnvGroupVars(ao.Production.ID)["JWT_SECRET"]
	if old == "" {
		return nil, fmt.Errorf("drill: the seeded env group has no JWT_SECRET")
	}
	token := SignJWT("canary@alpha-orion.example", old)
	// Before the run the API must accept the token and be healthy, so the
	// runbook's 401 proves the rotation rather than a broken app.
	// Both services run and have read JWT_SECRET at their start.
	for _, name := range []string{jwtService, "blockchain-monitor"} {
		if code, body := drillGetBearer(ctx, app.AuthURL(name), token); code != http.StatusOK {
			return nil, fmt.Errorf("drill: before the rotation %s should accept a token signed with JWT_SECRET, got %d %s", name, code, body)
		}
	}
	if code, body := drillGet(ctx, app.HealthURL(jwtService)); code != http.StatusOK {
		return nil, fmt.Errorf("drill: before the rotation the API should be healthy, got %d %s", code, body)
	}
	w.remember("jwt", jwtState{oldSecret: old, oldToken: token})
	return &Stage{
		Params: map[string]string{
			"auth_url":   app.AuthURL(jwtService),
			"health_url": app.HealthURL(jwtService),
		},
		Secrets: map[string]string{"RENDER_API_KEY": render.APIKey(), "OLD_TOKEN": token},
		Overrides: map[string]map[string]any{
			"render": {"base_url": render.URL(), "poll_interval": "50ms", "retry_delay": "50ms"},
		},
		Incident: time.Now().UTC(),
		Notes: []string{
			fmt.Sprintf("Render: user-api-service and blockchain-monitor linked to env group production; its JWT_SECRET (fingerprint %s) has leaked", fingerprint(old)),
			fmt.Sprintf("a canary token signed with the leaked secret is accepted by %s (200) before the run; it is passed as the secret OLD_TOKEN", app.AuthURL(jwtService)),
			fmt.Sprintf("the API reads %d users from a throwaway PostgreSQL, so its health check is real", seedUsers),
		},
	}, nil
}

func verifyJWTRotation(ctx context.Context, w *World, st *Stage) []Check {
	js, _ := w.recall("jwt").(jwtState)
	render, _ := w.Render()
	app, _ := w.App()
	var out []Check

	secret, err := renderGroupVar(ctx, render, "production", "JWT_SECRET")
	out = append(out, check("JWT_SECRET replaced (Render API)", err == nil && secret != "" && secret != js.oldSecret && len(secret) >= 43,
		"env group production: fingerprint %s, was %s; %d characters %s", fingerprint(secret), fingerprint(js.oldSecret), len(secret), errText(err)))
	// Each service reads JWT_SECRET when it starts: one that was not
	// restarted still accepts the leaked secret's tokens.
	for _, name := range []string{jwtService, "blockchain-monitor"} {
		code, body := drillGetBearer(ctx, app.AuthURL(name), js.oldToken)
		out = append(out, check(name+" rejects the leaked secret's token", code == http.StatusUnauthorized, "%s answers %d %s", name, code, strings.TrimSpace(body)))
		code, body = drillGetBearer(ctx, app.AuthURL(name), SignJWT("user1@alpha-orion.example", secret))
		out = append(out, check(name+" accepts a token signed with the new secret", code == http.StatusOK, "%s answers %d %s", name, code, strings.TrimSpace(body)))
	}
	code, body := drillGet(ctx, app.HealthURL(jwtService))
	out = append(out, check("the API is healthy", code == http.StatusOK, "%d %s", code, strings.TrimSpace(body)))
	out = append(out, scanForSecrets(st.StateDir, fingerprint(secret), map[string]string{
		"the new JWT_SECRET": secret,
		"the old token":      js.oldToken,
	}))
	return out
}

// scanForSecrets checks that no file of the run's state folder (journal,
// locks) holds any of the values, and that the journal did record the run
// (it names the new secret's fingerprint), so the scan is not vacuous.
func scanForSecrets(dir, wantFingerprint string, values map[string]string) Check {
	var files, journaled int
	var leaks []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if wantFingerprint != "" && bytes.Contains(b, []byte(wantFingerprint)) {
			journaled++
		}
		for what, v := range values {
			if v != "" && bytes.Contains(b, []byte(v)) {
				leaks = append(leaks, fmt.Sprintf("%s in %s", what, filepath.Base(path)))
			}
		}
		return nil
	})
	ok := err == nil && files > 0 && journaled > 0 && len(leaks) == 0
	detail := fmt.Sprintf("%s scanned, the new secret's fingerprint journaled in %d, leaks: %v %s", words.Plural(files, "file"), journaled, leaks, errText(err))
	return check("no secret in the journal", ok, "%s", strings.TrimSpace(detail))
}

// fingerprint is the first 12 hex digits of a value's SHA-256, as the
// secret plugin prints them.
func fingerprint(v string) string {
	if v == "" {
		return "(none)"
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:12]
}
