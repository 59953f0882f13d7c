package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/jackc/pgx/v5"
)

// seedUsers is how many users the drill's production database holds before
// the incident; the incident deletes all but keptUsers of them.
const (
	seedUsers = 120
	keptUsers = 20
)

func init() {
	register(&Scenario{
		Runbook: "neon-pitr",
		Needs:   []string{"postgres"},
		Setup:   setupNeonPITR,
		Verify:  verifyNeonPITR,
	})
}

// neonState is what the neon-pitr scenario remembers between setup and verify.
type neonState struct {
	project, branchID string
}

func setupNeonPITR(ctx context.Context, w *World) (*Stage, error) {
	pg, err := w.Postgres(ctx)
	if err != nil {
		return nil, err
	}
	neon, err := w.Neon(ctx)
	if err != nil {
		return nil, err
	}
	app, err := w.App()
	if err != nil {
		return nil, err
	}
	if err := pg.CreateDatabase(ctx, "alpha_orion"); err != nil {
		return nil, err
	}
	if err := seedUserTable(ctx, pg.URL("alpha_orion"), seedUsers); err != nil {
		return nil, err
	}
	p, b, err := neon.AddProject(ctx, neonemu.ProjectSpec{Database: "alpha_orion"})
	if err != nil {
		return nil, err
	}
	// Neon keeps history continuously; the emulator keeps snapshots. The
	// snapshot is the healthy state the restore must bring back.
	if _, err := neon.Snapshot(ctx, b.ID); err != nil {
		return nil, err
	}
	time.Sleep(20 * time.Millisecond)
	restorePoint := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	// The incident: a bad migration deletes most users.
	incident := time.Now().UTC()
	if err := execSQL(ctx, pg.URL("alpha_orion"), fmt.Sprintf("delete from users where id > %d", keptUsers)); err != nil {
		return nil, err
	}
	uri, err := neon.ConnectionURI(b.ID)
	if err != nil {
		return nil, err
	}
	render, err := w.Render()
	if err != nil {
		return nil, err
	}
	if _, err := render.SeedAlphaOrion(uri); err != nil {
		return nil, err
	}
	w.remember("neon", neonState{project: p.ID, branchID: b.ID})
	return &Stage{
		Params: map[string]string{
			"restore_to": restorePoint.Format(time.RFC3339Nano),
			"health_url": app.HealthURL("user-api-service"),
		},
		Secrets: map[string]string{"NEON_API_KEY": neon.APIKey(), "RENDER_API_KEY": render.APIKey()},
		Overrides: map[string]map[string]any{
			"neon":   {"base_url": neon.URL(), "project_id": p.ID, "poll_interval": "50ms", "retry_delay": "50ms"},
			"render": {"base_url": render.URL(), "poll_interval": "50ms", "retry_delay": "50ms"},
		},
		Incident:     incident,
		RestorePoint: restorePoint,
		Notes: []string{
			fmt.Sprintf("seeded %d users in Neon project %s, branch main; snapshot taken (Neon's history)", seedUsers, p.ID),
			fmt.Sprintf("incident at %s: deleted %d users", incident.Format(time.RFC3339), seedUsers-keptUsers),
			"Render: user-api-service (2 instances) and blockchain-monitor (1) with env group production",
		},
	}, nil
}

func verifyNeonPITR(ctx context.Context, w *World, st *Stage) []Check {
	var out []Check
	ns, _ := w.recall("neon").(neonState)
	render, _ := w.Render()
	app, _ := w.App()
	api, _ := render.ServiceByName("user-api-service")
	mon, _ := render.ServiceByName("blockchain-monitor")
	out = append(out,
		check("user-api-service scaled back", render.Instances(api.ID) == 2, "%d instances (want 2)", render.Instances(api.ID)),
		check("blockchain-monitor scaled back", render.Instances(mon.ID) == 1, "%d instances (want 1)", render.Instances(mon.ID)))
	env := app.LiveEnv("user-api-service")
	users, err := countUsers(ctx, env["DATABASE_URL"])
	out = append(out, check("DATABASE_URL reaches the restored data", err == nil && users == seedUsers, "%d users through the env group's DATABASE_URL (want %d) %v", users, seedUsers, errText(err)))
	neon, _ := w.Neon(ctx)
	uri, _ := neon.ConnectionURI(ns.branchID)
	out = append(out, check("DATABASE_URL points at the restored branch", env["DATABASE_URL"] == uri, "env group and branch %s agree: %v", ns.branchID, env["DATABASE_URL"] == uri))
	preserved := 0
	for _, b := range neon.Branches(ns.project) {
		if b.ID != ns.branchID && b.Name != "main" {
			preserved++
		}
	}
	out = append(out, check("pre-restore state preserved as a branch", preserved >= 1, "%d preserved branch(es)", preserved))
	loss := st.Incident.Sub(st.RestorePoint)
	out = append(out, check("restore point within the RPO", loss <= time.Hour, "data written in the %s before the incident is lost (RPO 1h)", loss.Round(time.Millisecond)))
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// seedUserTable creates the users table with n rows.
func seedUserTable(ctx context.Context, url string, n int) error {
	return execSQL(ctx, url, fmt.Sprintf(`create table users (
		id int primary key, email text not null, created_at timestamptz not null);
		insert into users select i, 'user' || i || '@alpha-orion.example', now() - (i || ' minutes')::interval
		from generate_series(1, %d) as i`, n))
}

func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
