package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/words"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
	"github.com/jackc/pgx/v5"
)

// The dump-restore drill (DR plan 3.2): Neon is gone for good. The bucket
// holds real pg_dump dumps of production taken at different moments, each
// with more users than the one before; the newest, written 30 minutes
// before the incident (inside the 1h RPO, so the runbook's rpo-gate stays
// closed), holds dumpUsers users. The runbook must provision a database
// through the Terraform fixture, restore exactly that newest dump, repoint
// DATABASE_URL and redeploy, and the API must be healthy again.
const (
	backupBucket  = "alpha-orion-backups"
	recoveryDB    = "alpha_orion" // the runbook's db_name
	goneDB        = "neondb"      // production on Neon, dropped by the incident
	dumpUsers     = 120           // users in the newest dump
	tradesPerUser = 2
)

func init() {
	register(&Scenario{
		Runbook: "dump-restore",
		Needs:   []string{"postgres", "terraform"},
		Setup:   setupDumpRestore,
		Verify:  verifyDumpRestore,
	})
}

// dumpState is what the dump-restore scenario remembers between setup and verify.
type dumpState struct {
	terraformDir  string
	newest        string         // the object the runbook must restore
	password      string         // the recovery database's admin password
	deploysBefore map[string]int // per service name
	staged        time.Time
}

// backup is one object the drill puts in the bucket.
type backup struct {
	name  string
	age   time.Duration // before the incident
	users int           // the database's users when it was dumped; 0: not a dump
}

// backups are the bucket's objects. Only nightly/*.sql are candidates;
// the log is newer than every dump and the weekly dump is older, so a
// runbook that ignored the prefix or the suffix restores the wrong thing.
var backups = []backup{
	{"weekly/alpha-orion-%s.sql", 8 * 24 * time.Hour, 90},
	{"nightly/alpha-orion-%s.sql", 48 * time.Hour, 100},
	{"nightly/alpha-orion-%s.sql", 24 * time.Hour, 110},
	{"nightly/alpha-orion-%s.sql", 30 * time.Minute, dumpUsers},
	{"nightly/alpha-orion-%s.log", 10 * time.Minute, 0},
}

func setupDumpRestore(ctx context.Context, w *World) (*Stage, error) {
	pg, err := w.Postgres(ctx)
	if err != nil {
		return nil, err
	}
	gcs, err := w.GCS()
	if err != nil {
		return nil, err
	}
	render, err := w.Render()
	if err != nil {
		return nil, err
	}
	app, err := w.App()
	if err != nil {
		return nil, err
	}
	tfDir, err := w.TerraformFixture("recovery-db")
	if err != nil {
		return nil, err
	}
	incident := time.Now().UTC().Truncate(time.Second)
	newest, newestAt, notes, err := stageBackups(ctx, pg, gcs, incident)
	if err != nil {
		return nil, err
	}
	// The incident: Neon, and the database on it, are gone.
	if err := pg.DropDatabase(ctx, goneDB); err != nil {
		return nil, err
	}
	ao, err := render.SeedAlphaOrion(pg.URL(goneDB))
	if err != nil {
		return nil, err
	}
	if code, body := drillGet(ctx, app.HealthURL("user-api-service")); code == http.StatusOK {
		return nil, fmt.Errorf("staging: the API is healthy before the restore (%d %s)", code, body)
	}
	downloads := filepath.Join(w.Dir, "downloads")
	if err := os.MkdirAll(downloads, 0o700); err != nil {
		return nil, err
	}
	binDir, err := pgserver.FindBinDir("")
	if err != nil {
		return nil, err
	}
	password := rand.Text()
	w.remember("dump-restore", dumpState{
		terraformDir: tfDir, newest: newest, password: password, staged: time.Now(),
		deploysBefore: map[string]int{
			"user-api-service":   len(render.Deploys(ao.UserAPI.ID)),
			"blockchain-monitor": len(render.Deploys(ao.Monitor.ID)),
		},
	})
	notes = append(notes,
		fmt.Sprintf("incident at %s: Neon is unreachable (database %s dropped); the API's health check fails", incident.Format(time.RFC3339), goneDB),
		"Render: user-api-service (2 instances) and blockchain-monitor (1); env group production has DATABASE_URL of the lost database",
		"Terraform fixture recovery-db (terraform_data only, local backend) in "+tfDir+"; its outputs point at the drill's PostgreSQL")
	return &Stage{
		Params: map[string]string{
			"terraform_dir": tfDir,
			"download_dir":  downloads,
			"db_name":       recoveryDB,
			"health_url":    app.HealthURL("user-api-service"),
		},
		Secrets: map[string]string{"RENDER_API_KEY": render.APIKey()},
		Overrides: map[string]map[string]any{
			"gcs": {"base_url": gcs.BaseURL()},
			"terraform": {
				"env": map[string]any{
					"TF_VAR_server":     fmt.Sprintf("%s:%d", pg.Host(), pg.Port()),
					"TF_VAR_admin_user": pg.Superuser(),
				},
				"secret_env": map[string]any{"TF_VAR_admin_password": password},
			},
			"postgres": {"bin_dir": binDir},
			"render":   {"base_url": render.URL(), "poll_interval": "50ms", "retry_delay": "50ms"},
		},
		Incident:     incident,
		RestorePoint: newestAt, // Verify replaces it with the dump actually restored
		Notes:        notes,
	}, nil
}

// stageBackups grows production (database goneDB) and dumps it with pg_dump
// at each backup's size, uploading the dumps with their Updated times; it
// returns the newest dump's name and time.
func stageBackups(ctx context.Context, pg *pgserver.Server, gcs *GCS, incident time.Time) (string, time.Time, []string, error) {
	if err := pg.CreateDatabase(ctx, goneDB); err != nil {
		return "", time.Time{}, nil, err
	}
	if err := pgserver.ExecURL(ctx, pg.URL(goneDB), productionSchema); err != nil {
		return "", time.Time{}, nil, err
	}
	gcs.CreateBucket(backupBucket)
	var newest string
	var newestAt time.Time
	var notes []string
	users := 0
	for _, b := range backups {
		at := incident.Add(-b.age)
		name := fmt.Sprintf(b.name, at.Format("20060102T150405Z"))
		var content []byte
		if b.users == 0 {
			content = []byte("pg_dump: dumping contents of table \"public.users\"\n")
		} else {
			if err := pgserver.ExecURL(ctx, pg.URL(goneDB), addUsersSQL(users+1, b.users)); err != nil {
				return "", time.Time{}, nil, err
			}
			users = b.users
			var err error
			if content, err = pgDump(ctx, pg, goneDB); err != nil {
				return "", time.Time{}, nil, err
			}
			if strings.HasPrefix(name, "nightly/") && strings.HasSuffix(name, ".sql") && at.After(newestAt) {
				newest, newestAt = name, at
			}
		}
		gcs.PutObject(backupBucket, name, at, content)
		what := "not a dump"
		if b.users > 0 {
			what = fmt.Sprintf("pg_dump with %d users", b.users)
		}
		notes = append(notes, fmt.Sprintf("gs://%s/%s, updated %s ago: %s", backupBucket, name, b.age, what))
	}
	// Writes after the newest dump: the data the RPO says may be lost.
	if err := pgserver.ExecURL(ctx, pg.URL(goneDB), addUsersSQL(users+1, users+5)); err != nil {
		return "", time.Time{}, nil, err
	}
	notes = append(notes, fmt.Sprintf("newest dump is %s; production got 5 more users after it (lost with Neon, within the RPO)", newest))
	return newest, newestAt, notes, nil
}

// productionSchema is a small production-like schema: users, and trades
// that reference them (so a restore must respect the foreign key and bring
// the sequence along).
const productionSchema = `
create table users (id int primary key, email text not null unique, created_at timestamptz not null);
create table trades (
	id bigserial primary key,
	user_id int not null references users(id),
	profit numeric(18, 6) not null,
	executed_at timestamptz not null);
create index trades_user_id on trades(user_id);`

// addUsersSQL inserts users from..to, each with tradesPerUser trades.
func addUsersSQL(from, to int) string {
	return fmt.Sprintf(`
insert into users select i, 'user' || i || '@alpha-orion.example', now() - ((1000 - i) || ' minutes')::interval
	from generate_series(%[1]d, %[2]d) as i;
insert into trades (user_id, profit, executed_at)
	select i, (i * 0.125 + t)::numeric(18, 6), now() - (t || ' seconds')::interval
	from generate_series(%[1]d, %[2]d) as i, generate_series(1, %[3]d) as t;`, from, to, tradesPerUser)
}

// pgDump takes a real plain-SQL dump of db, as the nightly job does
// (--no-owner --no-privileges, so it restores on any provider's roles).
func pgDump(ctx context.Context, pg *pgserver.Server, db string) ([]byte, error) {
	binDir, err := pgserver.FindBinDir("")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_dump"), "--no-password", "--no-owner", "--no-privileges", "-d", pg.URL(db))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.Env = clientEnv()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pg_dump %s: %w: %s", db, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out.Bytes(), nil
}

// clientEnv is this process's environment without PG* variables, which
// would override the URL's settings.
func clientEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func verifyDumpRestore(ctx context.Context, w *World, st *Stage) []Check {
	ds, _ := w.recall("dump-restore").(dumpState)
	pg, _ := w.Postgres(ctx)
	gcs, _ := w.GCS()
	render, _ := w.Render()
	app, _ := w.App()
	var out []Check

	users, maxID, trades, seqOK, err := restoredCounts(ctx, pg.URL(recoveryDB))
	out = append(out, check("restored database holds every user of the newest dump",
		err == nil && users == dumpUsers && maxID == dumpUsers,
		"%d users, highest id %d in database %s (want %d) %s", users, maxID, recoveryDB, dumpUsers, errText(err)))
	out = append(out, check("trades restored with their sequence",
		err == nil && trades == dumpUsers*tradesPerUser && seqOK,
		"%d trades (want %d), sequence past the highest id: %v", trades, dumpUsers*tradesPerUser, seqOK))

	var reads []string
	for _, r := range gcs.Reads() {
		reads = append(reads, r.Bucket+"/"+r.Object)
	}
	onlyNewest := len(reads) > 0
	for _, r := range reads {
		onlyNewest = onlyNewest && r == backupBucket+"/"+ds.newest
	}
	out = append(out, check("restored dump is the newest object", onlyNewest,
		"downloaded %s (want only %s/%s)", listOrNone(reads), backupBucket, ds.newest))

	out = append(out, provisionedCheck(ds.terraformDir))
	out = append(out, passwordKeptCheck(st, ds.password))

	dbURL, err := renderGroupVar(ctx, render, "production", "DATABASE_URL")
	want := fmt.Sprintf("%s:%d/%s", pg.Host(), pg.Port(), recoveryDB)
	got := urlTarget(dbURL)
	out = append(out, check("DATABASE_URL of env group production points at the restored database (Render API)", err == nil && got == want,
		"it reaches %s (want %s) %s", got, want, errText(err)))

	for _, name := range []string{"user-api-service", "blockchain-monitor"} {
		out = append(out, deployCheck(ctx, render, name, ds.deploysBefore[name], ds.staged))
	}

	code, body := drillGet(ctx, app.HealthURL("user-api-service"))
	out = append(out, check("API health check passes", code == http.StatusOK, "%d %s", code, strings.TrimSpace(body)))
	// The restore point is the dump the runbook actually downloaded, which
	// the report's RPO line then shows (staging assumed the newest).
	if len(reads) > 0 {
		last := gcs.Reads()[len(reads)-1]
		if obj, err := gcs.GetObject(last.Bucket, last.Object); err == nil {
			st.RestorePoint = obj.Updated.UTC()
		}
	}
	loss := st.Incident.Sub(st.RestorePoint)
	out = append(out, check("restored dump within the RPO", len(reads) > 0 && loss <= time.Hour,
		"data written in the %s before the incident is lost (RPO 1h)", loss))
	return out
}

// restoredCounts reads the restored database.
func restoredCounts(ctx context.Context, dbURL string) (users, maxID, trades int, seqOK bool, err error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, 0, 0, false, fmt.Errorf("cannot connect to the restored database")
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `select (select count(*) from users), (select coalesce(max(id), 0) from users),
		(select count(*) from trades),
		(select last_value >= (select coalesce(max(id), 0) from trades) from trades_id_seq)`).Scan(&users, &maxID, &trades, &seqOK)
	return users, maxID, trades, seqOK, err
}

// provisionedCheck looks in the fixture's state for the database Terraform created.
func provisionedCheck(dir string) Check {
	rs, err := TerraformState(dir)
	if err != nil {
		return check("recovery database provisioned by Terraform", false, "no state: %v", err)
	}
	for _, r := range rs {
		if r.Address == "terraform_data.database" && r.Input("name") == recoveryDB {
			return check("recovery database provisioned by Terraform", true, "%s (name %s) in the state", r.Address, recoveryDB)
		}
	}
	return check("recovery database provisioned by Terraform", false, "no terraform_data.database named %s among %d resources", recoveryDB, len(rs))
}

// passwordKeptCheck wants the recovery database's password nowhere in the
// run's journal, although the URLs holding it flow from Terraform's
// sensitive outputs into the restore's and update-url's inputs.
// The journal is read as the core's state store holds it: runbook drill
// exports the run's events to the stage's state folder.
func passwordKeptCheck(st *Stage, password string) Check {
	const name = "database password never written to the journal"
	journals, _ := filepath.Glob(filepath.Join(st.StateDir, "*.jsonl"))
	if password == "" || len(journals) == 0 {
		return check(name, false, "nothing to check (%d journals)", len(journals))
	}
	for _, j := range journals {
		b, err := os.ReadFile(j)
		if err != nil {
			return check(name, false, "%v", err)
		}
		if bytes.Contains(b, []byte(password)) {
			return check(name, false, "%s holds it in clear", filepath.Base(j))
		}
	}
	return check(name, true, "%s checked, password masked", words.Plural(len(journals), "journal"))
}

// deployCheck wants a deploy made after staging, and live.
// deployCheck reads a service's deploys through Render's API: a new one
// since staging must be live.
func deployCheck(ctx context.Context, render *renderemu.Emulator, name string, before int, staged time.Time) Check {
	ds, err := renderDeploys(ctx, render, name)
	if err != nil {
		return check(name+" redeployed", false, "%v", err)
	}
	if len(ds) <= before {
		return check(name+" redeployed", false, "%d deploys, none new", len(ds))
	}
	last := ds[0] // newest first
	ok := last.Status == renderemu.DeployLive && !last.CreatedAt.Before(staged.Add(-time.Second))
	return check(name+" redeployed", ok, "deploy %s is %s (%d new)", last.ID, last.Status, len(ds)-before)
}

// urlTarget returns host:port/database of a connection URL.
func urlTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "nothing"
	}
	return u.Host + u.Path
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "nothing"
	}
	return strings.Join(xs, ", ")
}
