package neonemu

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ProjectSpec describes a project to seed; zero fields get Neon's defaults.
type ProjectSpec struct {
	// ID is the project ID; empty means a generated one like "shiny-wind-028834".
	ID string
	// Name is the project name; empty means the ID.
	Name string
	// RegionID is e.g. "aws-us-east-2" (the default).
	RegionID string
	// DatabaseName is the database every branch holds, as clients name it; default "neondb".
	DatabaseName string
	// RoleName is the role connection URIs log in as; default "neondb_owner".
	RoleName string
	// BranchName names the default branch; default "main".
	BranchName string
	// Database is an existing database on the server to back the default branch
	// in place (restores replace its contents); empty means a new empty one.
	Database string
}

// AddProject seeds a project with one default branch and returns both.
func (e *Emulator) AddProject(ctx context.Context, spec ProjectSpec) (Project, Branch, error) {
	spec = specDefaults(spec)
	e.mu.Lock()
	for _, p := range e.projects {
		if p.ID == spec.ID {
			e.mu.Unlock()
			return Project{}, Branch{}, fmt.Errorf("neonemu: project %q already exists", spec.ID)
		}
	}
	e.mu.Unlock()

	branchID := wordID("br")
	database, err := e.prepareData(ctx, spec, branchID)
	if err != nil {
		return Project{}, Branch{}, err
	}
	now := e.now()
	p := &project{
		Project: Project{
			ID: spec.ID, PlatformID: "aws", RegionID: spec.RegionID, Name: spec.Name,
			Provisioner: "k8s-neonvm", PgVersion: 15, ProxyHost: spec.RegionID[len("aws-"):] + ".aws.neon.tech",
			BranchLogicalSizeLimit: 512, BranchLogicalSizeLimitBytes: 512 << 20, StorePasswords: true,
			CreationSource: "console", HistoryRetentionSeconds: int64(e.opts.HistoryRetention.Seconds()),
			OwnerID: "neonemu-owner", ConsumptionPeriodStart: now, ConsumptionPeriodEnd: now.AddDate(0, 1, 0),
			CreatedAt: now, UpdatedAt: now,
		},
		dbName: spec.DatabaseName, roleName: spec.RoleName, password: "npg_" + token(12),
	}
	b := &branch{
		Branch: Branch{
			ID: branchID, ProjectID: p.ID, Name: spec.BranchName, CurrentState: "ready", StateChangedAt: now,
			CreationSource: "console", Default: true, Primary: true, CreatedAt: now, UpdatedAt: now,
		},
		endpointID: wordID("ep"),
		database:   database,
	}
	p.branches = []*branch{b}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.projects = append(e.projects, p)
	e.branches[b.ID] = b
	return p.Project, b.Branch, nil
}

// specDefaults fills the zero fields of spec.
func specDefaults(spec ProjectSpec) ProjectSpec {
	if spec.ID == "" {
		spec.ID = wordID("")
	}
	if spec.Name == "" {
		spec.Name = spec.ID
	}
	if spec.RegionID == "" || len(spec.RegionID) <= len("aws-") {
		spec.RegionID = "aws-us-east-2"
	}
	if spec.DatabaseName == "" {
		spec.DatabaseName = "neondb"
	}
	if spec.RoleName == "" {
		spec.RoleName = "neondb_owner"
	}
	if spec.BranchName == "" {
		spec.BranchName = "main"
	}
	return spec
}

// prepareData makes the project's role and the default branch's database on
// the server, returning the database name ("" without a server).
func (e *Emulator) prepareData(ctx context.Context, spec ProjectSpec, branchID string) (string, error) {
	if e.pg == nil {
		if spec.Database != "" {
			return "", errors.New("neonemu: ProjectSpec.Database needs Options.Server")
		}
		return "", nil
	}
	if err := e.ensureRole(ctx, spec.RoleName); err != nil {
		return "", err
	}
	if spec.Database != "" {
		ok, err := e.pg.DatabaseExists(ctx, spec.Database)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("neonemu: database %q does not exist on the server", spec.Database)
		}
		return spec.Database, nil
	}
	name := e.dbName(branchID, 0)
	if err := e.pg.CreateDatabase(ctx, name); err != nil {
		return "", err
	}
	e.own(name)
	return name, nil
}

// ensureRole creates the login role URIs name, as a superuser so it can use
// whatever the tests created; an existing role is fine.
func (e *Emulator) ensureRole(ctx context.Context, role string) error {
	err := e.pg.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN SUPERUSER")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") {
		return nil // already there (23505: created concurrently)
	}
	return err
}

// CreateBranch seeds a child branch of parentID holding a copy of the parent's current data.
func (e *Emulator) CreateBranch(ctx context.Context, projectID, name, parentID string) (Branch, error) {
	e.pgMu.Lock()
	defer e.pgMu.Unlock()
	e.mu.Lock()
	parent := e.branches[parentID]
	if parent == nil || parent.ProjectID != projectID {
		e.mu.Unlock()
		return Branch{}, fmt.Errorf("%w: branch %q in project %q", ErrNotFound, parentID, projectID)
	}
	src := parent.database
	e.mu.Unlock()

	id := wordID("br")
	database, lsn := "", ""
	if e.pg != nil {
		database = e.dbName(id, 0)
		var err error
		if lsn, err = e.currentLSN(ctx); err != nil {
			return Branch{}, err
		}
		if err := e.pg.CloneDatabase(ctx, database, src); err != nil {
			return Branch{}, err
		}
		e.own(database)
	} else {
		lsn = e.nextFakeLSN()
	}
	now := e.now()
	b := &branch{
		Branch: Branch{
			ID: id, ProjectID: projectID, ParentID: parentID, ParentLSN: lsn, ParentTimestamp: timePtr(now),
			Name: name, CurrentState: "ready", StateChangedAt: now, CreationSource: "console",
			InitSource: "parent-data", CreatedAt: now, UpdatedAt: now,
		},
		endpointID: wordID("ep"),
		database:   database,
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.projects {
		if p.ID == projectID {
			p.branches = append(p.branches, b)
		}
	}
	e.branches[b.ID] = b
	return b.Branch, nil
}

// defaultBranch returns the project's default branch.
func (p *project) defaultBranch() *branch {
	for _, b := range p.branches {
		if b.Default {
			return b
		}
	}
	return p.branches[0]
}

// branchNamed returns the project's branch called name, or nil.
func (p *project) branchNamed(name string) *branch {
	for _, b := range p.branches {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Seed is a convenience for drills: a project with a default branch backed by
// database (empty means a new one), with one snapshot taken right away so the
// branch has history to restore to.
func (e *Emulator) Seed(ctx context.Context, spec ProjectSpec) (Project, Branch, error) {
	p, b, err := e.AddProject(ctx, spec)
	if err != nil {
		return Project{}, Branch{}, err
	}
	if _, err := e.Snapshot(ctx, b.ID); err != nil {
		return Project{}, Branch{}, err
	}
	return p, b, nil
}
