// Package standalone serves one provider stand-in on its own, at a local
// URL, seeded with something to work on: `runbook-sandbox serve neon` and
// `runbook-sandbox serve render`. Runbook authors point the plugins (or the
// providers' own clients) at it to develop runbooks without an account, and
// tests drive it with the providers' official clients.
package standalone

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// Providers are the stand-ins Serve knows.
var Providers = []string{"neon", "render"}

// Options configures Serve.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1:0.
	Addr string
	// SnapshotEvery, when positive, makes the Neon stand-in record its
	// branches' history at that interval, so restores to recent times find it.
	SnapshotEvery time.Duration
	// Logf, when set, receives background errors (a failed scheduled snapshot).
	Logf func(format string, args ...any)
}

// Info is what a client needs to use a served stand-in; none of its values
// is a real credential.
type Info struct {
	Provider string `json:"provider"`
	// URL is the API's base URL, e.g. http://127.0.0.1:PORT/api/v2.
	URL string `json:"url"`
	// APIKey is a throwaway bearer token, valid for this stand-in only.
	APIKey string `json:"api_key"`
	// Neon: the seeded project.
	ProjectID string `json:"project_id,omitempty"`
	BranchID  string `json:"branch_id,omitempty"`
	Branch    string `json:"branch,omitempty"`
	Database  string `json:"database,omitempty"`
	Role      string `json:"role,omitempty"`
	// Table is the seeded table whose rows History counts.
	Table string `json:"table,omitempty"`
	// History are the points of the branch's history, oldest first.
	History []Point `json:"history,omitempty"`
	// Rows is how many rows Table holds now.
	Rows int `json:"rows,omitempty"`
	// Render: the seeded services and environment group, by name.
	Services  map[string]string `json:"services,omitempty"`
	EnvGroups map[string]string `json:"env_groups,omitempty"`
}

// Point is one recorded moment of a Neon branch.
type Point struct {
	Time time.Time `json:"time"`
	Rows int       `json:"rows"`
}

// Served is a running stand-in; Close stops it and removes what it made.
type Served struct {
	Info
	close func() error
}

// Close stops the stand-in.
func (s *Served) Close() error { return s.close() }

// Serve starts the stand-in of provider, seeds it and returns what a client
// needs; ctx bounds start-up only.
func Serve(ctx context.Context, provider string, opts Options) (*Served, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	switch provider {
	case "neon":
		return serveNeon(ctx, opts)
	case "render":
		return serveRender(opts)
	}
	return nil, fmt.Errorf("no stand-in named %q: use one of %s", provider, strings.Join(Providers, ", "))
}

// localKey returns a fresh API key that says it is a local one.
func localKey(provider string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return provider + "emu-local-" + hex.EncodeToString(b)
}

// The Neon seed: a project whose main branch holds a table that grew over
// two hours, with history recorded an hour and ten minutes ago.
const (
	neonProject  = "local-project"
	neonDatabase = "neondb"
	neonRole     = "neondb_owner"
	neonTable    = "items"
)

// neonSeed is the table's growth: rows added, then a history point taken,
// at each offset from now.
var neonSeed = []struct {
	rows int
	at   time.Duration // the history point's age; 0 means no point (the rows are newer than any)
}{
	{3, 60 * time.Minute},
	{2, 10 * time.Minute},
	{1, 0},
}

// serveNeon starts a PostgreSQL server and the Neon emulator on it, and
// seeds the project.
func serveNeon(ctx context.Context, opts Options) (s *Served, err error) {
	pg, err := pgserver.Start(ctx, pgserver.Options{Dir: pgserver.MemoryDir()})
	if err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	var skew atomic.Int64 // the seed dates history in the past
	emu := neonemu.New(neonemu.Options{
		APIKey: localKey("neon"), Server: pg, SnapshotEvery: opts.SnapshotEvery, OnlineSnapshots: true, Logf: opts.Logf,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
	})
	// Neon's operations progress by themselves, whoever polls them; the
	// emulator's move on when polled by ID, so a client that only lists
	// them (neonctl operations list) needs this.
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				emu.FinishOperations()
			}
		}
	}()
	closeAll := func() error {
		close(stop)
		<-finished
		err := emu.Close()
		if perr := pg.Stop(); err == nil {
			err = perr
		}
		return err
	}
	defer func() {
		if err != nil {
			_ = closeAll()
		}
	}()
	skew.Store(int64(-2 * time.Hour))
	// The default branch lives in a database named as clients name it, so a
	// connection string built from its parts (as neonctl does) reaches it.
	if err := pg.CreateDatabase(ctx, neonDatabase); err != nil {
		return nil, err
	}
	p, b, err := emu.AddProject(ctx, neonemu.ProjectSpec{ID: neonProject, Name: "Local project",
		DatabaseName: neonDatabase, RoleName: neonRole, Database: neonDatabase})
	if err != nil {
		return nil, err
	}
	uri, err := emu.ConnectionURI(b.ID)
	if err != nil {
		return nil, err
	}
	info := Info{Provider: "neon", APIKey: emu.APIKey(), ProjectID: p.ID, BranchID: b.ID, Branch: b.Name,
		Database: neonDatabase, Role: neonRole, Table: neonTable}
	if err := pgserver.ExecURL(ctx, uri, "create table "+neonTable+" (id int primary key, name text not null, created_at timestamptz not null default now())"); err != nil {
		return nil, err
	}
	for _, step := range neonSeed {
		if err := pgserver.ExecURL(ctx, uri, fmt.Sprintf("insert into %s (id, name) select i, 'item ' || i from generate_series(%d, %d) as i",
			neonTable, info.Rows+1, info.Rows+step.rows)); err != nil {
			return nil, err
		}
		info.Rows += step.rows
		if step.at == 0 {
			continue
		}
		skew.Store(int64(-step.at))
		snap, err := emu.Snapshot(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		info.History = append(info.History, Point{Time: snap.Time, Rows: info.Rows})
	}
	skew.Store(0)
	if info.URL, err = emu.Start(opts.Addr); err != nil {
		return nil, err
	}
	return &Served{Info: info, close: closeAll}, nil
}

// serveRender starts the Render emulator with the Alpha-Orion estate.
func serveRender(opts Options) (*Served, error) {
	emu := renderemu.New(renderemu.Options{APIKey: localKey("render")})
	estate, err := emu.SeedAlphaOrion("")
	if err != nil {
		return nil, err
	}
	url, err := emu.Start(opts.Addr)
	if err != nil {
		_ = emu.Close()
		return nil, err
	}
	info := Info{Provider: "render", URL: url, APIKey: emu.APIKey(), Services: map[string]string{}, EnvGroups: map[string]string{}}
	for _, s := range emu.Services() {
		info.Services[s.Name] = s.ID
	}
	info.EnvGroups[estate.Production.Name] = estate.Production.ID
	return &Served{Info: info, close: emu.Close}, nil
}
