package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/words"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
	"github.com/jackc/pgx/v5"
)

// The neon-pitr timeline, relative to the incident (now): the branch is
// created, oldUsers sign up, and Neon's history records that state at
// oldHistory; newUsers more sign up and the history records the healthy state
// at lastHealthy; then the incident deletes every user but keptUsers. The
// runbook restores to restoreLag before the incident, so the newest state at
// or before it is lastHealthy's. A restore point older than lastHealthy finds
// only oldHistory's state, which the checks see: users are missing and the
// newest surviving row is older than the RPO.
const (
	oldUsers    = 100
	newUsers    = 20
	keptUsers   = 20
	seedUsers   = oldUsers + newUsers
	oldHistory  = 90 * time.Minute
	lastHealthy = 10 * time.Minute
	restoreLag  = 5 * time.Minute
	pitrRPO     = time.Hour // the runbook's objectives.rpo

	// The database and role of the Neon project, as its clients name them.
	pitrDatabase = "alpha_orion"
	pitrRole     = "alpha_orion_owner"

	// pitrMigrationTable is what the incident's bad migration leaves behind:
	// a restore of the whole branch removes it, re-inserting the rows would not.
	pitrMigrationTable = "purge_batch_0042"
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
	project string
	// instances are the services' counts before the incident.
	instances map[string]int
}

// pitrServices are the writers the runbook stops and brings back.
var pitrServices = []string{"user-api-service", "blockchain-monitor"}

func setupNeonPITR(ctx context.Context, w *World) (*Stage, error) {
	pg, err := w.Postgres(ctx)
	if err != nil {
		return nil, err
	}
	w.setNeonClock(-2 * time.Hour)
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
	url := pg.URL("alpha_orion")
	// Users get ids newest first: id 1 signed up last.
	if err := pgserver.ExecURL(ctx, url, fmt.Sprintf(`create table users (
		id int primary key, email text not null, created_at timestamptz not null);
		insert into users select i, 'user' || i || '@alpha-orion.example', now() - interval '%d seconds' - (i || ' minutes')::interval
		from generate_series(%d, %d) as i`, int(oldHistory.Seconds()), newUsers+1, seedUsers)); err != nil {
		return nil, err
	}
	p, b, err := neon.AddProject(ctx, neonemu.ProjectSpec{Database: "alpha_orion", DatabaseName: pitrDatabase, RoleName: pitrRole})
	if err != nil {
		return nil, err
	}
	// Neon keeps history continuously; the emulator records it as snapshots,
	// each dated on the emulator's clock.
	w.setNeonClock(-oldHistory)
	if _, err := neon.Snapshot(ctx, b.ID); err != nil {
		return nil, err
	}
	if err := pgserver.ExecURL(ctx, url, fmt.Sprintf(`insert into users select i, 'user' || i || '@alpha-orion.example',
		now() - interval '%d seconds' - (i || ' seconds')::interval from generate_series(1, %d) as i`,
		int(lastHealthy.Seconds()), newUsers)); err != nil {
		return nil, err
	}
	w.setNeonClock(-lastHealthy)
	if _, err := neon.Snapshot(ctx, b.ID); err != nil {
		return nil, err
	}
	w.setNeonClock(0)
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
	// The services run before the incident: each has read DATABASE_URL.
	for _, svc := range pitrServices {
		if code, body := drillGet(ctx, app.DataURL(svc)); code != 200 || !strings.Contains(body, fmt.Sprintf("users=%d", seedUsers)) {
			return nil, fmt.Errorf("drill: %s before the incident: %d %s", svc, code, body)
		}
	}
	instances := map[string]int{}
	for _, name := range pitrServices {
		svc, _ := render.ServiceByName(name)
		instances[name] = svc.ServiceDetails.NumInstances
	}
	// The incident: a bad migration deletes every user but the oldest and
	// leaves its own table behind.
	incident := time.Now().UTC()
	if err := pgserver.ExecURL(ctx, url, fmt.Sprintf("create table %s (user_id int); delete from users where id <= %d",
		pitrMigrationTable, seedUsers-keptUsers)); err != nil {
		return nil, err
	}
	restorePoint := incident.Add(-restoreLag)
	w.remember("neon", neonState{project: p.ID, instances: instances})
	return &Stage{
		Params: map[string]string{
			"restore_to": restorePoint.Format(time.RFC3339Nano),
			"health_url": app.HealthURL("user-api-service"),
		},
		Secrets: map[string]string{"NEON_API_KEY": neon.APIKey(), "RENDER_API_KEY": render.APIKey()},
		Overrides: map[string]map[string]any{
			"neon":   {"base_url": neon.URL(), "project_id": p.ID, "database_name": pitrDatabase, "role_name": pitrRole, "poll_interval": "50ms", "retry_delay": "50ms"},
			"render": {"base_url": render.URL(), "poll_interval": "50ms", "retry_delay": "50ms"},
		},
		Incident:     incident,
		RestorePoint: restorePoint,
		Notes: []string{
			fmt.Sprintf("Neon project %s, branch main: %d users; history holds %d of them %s before the incident and all %d %s before", p.ID, seedUsers, oldUsers, oldHistory, seedUsers, lastHealthy),
			fmt.Sprintf("incident at %s: a bad migration deleted %d users, the newest among them, and created table %s", incident.Format(time.RFC3339), seedUsers-keptUsers, pitrMigrationTable),
			"Render: user-api-service (2 instances) and blockchain-monitor (1) running, each has read DATABASE_URL (the branch's connection string) from env group production and holds a session on it",
		},
	}, nil
}

// verifyNeonPITR observes the end state as users would: the services
// through Render's API and their own HTTP endpoints, the data through the
// connection string Neon's API gives for the branch, which is the one the
// services read from DATABASE_URL (Neon restores in place).
func verifyNeonPITR(ctx context.Context, w *World, st *Stage) []Check {
	var out []Check
	ns, _ := w.recall("neon").(neonState)
	render, _ := w.Render()
	app, _ := w.App()
	neon, _ := w.Neon(ctx)
	for _, name := range pitrServices {
		svc, err := renderService(ctx, render.URL(), render.APIKey(), name)
		want := ns.instances[name]
		out = append(out, check(name+" running as before (Render API)",
			err == nil && svc.Suspended == renderemu.NotSuspended && svc.ServiceDetails.NumInstances == want,
			"suspended=%s, %s (want not_suspended, %d) %s", svc.Suspended, words.Plural(svc.ServiceDetails.NumInstances, "instance"), want, errText(err)))
	}
	for _, name := range pitrServices {
		code, body := drillGet(ctx, app.DataURL(name))
		want := fmt.Sprintf("users=%d", seedUsers)
		out = append(out, check(name+" works on the restored data",
			code == 200 && strings.TrimSpace(body) == want,
			"GET %s/data: %d %s (want 200 %s; a 503 is a service that kept running through the restore, which ended its database session)", name, code, strings.TrimSpace(body), want))
	}
	code, body := drillGet(ctx, app.HealthURL("user-api-service"))
	out = append(out, check("API health check passes", code == 200, "GET healthz: %d %s", code, strings.TrimSpace(body)))

	api := neonAPI{url: neon.URL(), key: neon.APIKey(), project: ns.project}
	var branches struct {
		Branches []neonemu.Branch `json:"branches"`
	}
	err := api.get(ctx, "/branches", &branches)
	var preserved []string
	for _, b := range branches.Branches {
		if !b.Default {
			preserved = append(preserved, b.Name)
		}
	}
	out = append(out, check("pre-restore state preserved as a branch (Neon API)", err == nil && len(preserved) >= 1, "non-default branches %v %s", preserved, errText(err)))

	var conn struct {
		URI string `json:"uri"`
	}
	err = api.get(ctx, "/connection_uri?database_name="+pitrDatabase+"&role_name="+pitrRole, &conn)
	dbURL, uerr := renderGroupVar(ctx, render, "production", "DATABASE_URL")
	out = append(out, check("restored in place: DATABASE_URL (Render API) is the branch's connection string (Neon API)",
		err == nil && uerr == nil && conn.URI != "" && dbURL == conn.URI,
		"the same: %t %s%s", conn.URI != "" && dbURL == conn.URI, errText(err), errText(uerr)))
	users, newest, qerr := usersAndNewest(ctx, conn.URI)
	out = append(out, check("the deleted users are back on the default branch", err == nil && qerr == nil && users == seedUsers,
		"%d users through the branch's connection string (want %d) %s%s", users, seedUsers, errText(err), errText(qerr)))
	leftover, lerr := tableExists(ctx, conn.URI, pitrMigrationTable)
	out = append(out, check("the bad migration's table is gone", err == nil && lerr == nil && !leftover,
		"table %s exists: %t (want false: the whole branch is back before the incident) %s", pitrMigrationTable, leftover, errText(lerr)))
	loss := st.Incident.Sub(newest)
	out = append(out, check("restore point within the RPO, measured from the data", qerr == nil && !newest.IsZero() && loss <= pitrRPO,
		"the newest restored user signed up %s before the incident (RPO %s)", loss.Round(time.Second), pitrRPO))
	return out
}

// tableExists reports whether a table is in the database behind url.
func tableExists(ctx context.Context, url, table string) (bool, error) {
	if url == "" {
		return false, fmt.Errorf("no connection string")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var exists bool
	err = conn.QueryRow(ctx, "select to_regclass($1) is not null", table).Scan(&exists)
	return exists, err
}

// usersAndNewest counts the users and finds the newest sign-up.
func usersAndNewest(ctx context.Context, url string) (int, time.Time, error) {
	if url == "" {
		return 0, time.Time{}, fmt.Errorf("no connection string")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer conn.Close(ctx)
	var n int
	var newest *time.Time
	if err := conn.QueryRow(ctx, "select count(*), max(created_at) from users").Scan(&n, &newest); err != nil {
		return 0, time.Time{}, err
	}
	if newest == nil {
		return n, time.Time{}, nil
	}
	return n, *newest, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// seedUserTable creates the users table with n rows.
func seedUserTable(ctx context.Context, url string, n int) error {
	return pgserver.ExecURL(ctx, url, fmt.Sprintf(`create table users (
		id int primary key, email text not null, created_at timestamptz not null);
		insert into users select i, 'user' || i || '@alpha-orion.example', now() - (i || ' minutes')::interval
		from generate_series(1, %d) as i`, n))
}
