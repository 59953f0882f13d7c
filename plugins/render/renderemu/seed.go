package renderemu

import "fmt"

// ServiceSpec describes a service to seed; zero fields get defaults.
type ServiceSpec struct {
	// ID is the service ID; empty means a generated "srv-…".
	ID string
	// Name is the service name (required).
	Name string
	// Type is web_service (the default), background_worker, private_service or cron_job.
	Type string
	// Region is e.g. "oregon" (the default) or "frankfurt".
	Region string
	// NumInstances is the instance count; 0 means 1 (scale to 0 afterwards if needed).
	NumInstances int
	// Runtime is e.g. "node" (the default), "python", "go" or "docker".
	Runtime string
	// Plan is the instance type; default "starter".
	Plan string
	// Suspended seeds the service suspended.
	Suspended bool
	// EnvVars are the service's own environment variables.
	EnvVars map[string]string
	// Autoscaling, when set, is the service's autoscaling config; enabled,
	// it makes the API ignore manual scaling, as Render does.
	Autoscaling *Autoscaling
}

// EnvGroupSpec describes an environment group to seed.
type EnvGroupSpec struct {
	// ID is the group ID; empty means a generated "evg-…".
	ID string
	// Name is the group name (required).
	Name string
	// EnvVars are the group's variables.
	EnvVars map[string]string
	// ServiceIDs are the services the group is linked to.
	ServiceIDs []string
}

// AddService seeds a service with one live deploy and returns it.
func (e *Emulator) AddService(spec ServiceSpec) (Service, error) {
	if spec.Name == "" {
		return Service{}, fmt.Errorf("renderemu: ServiceSpec.Name is required")
	}
	spec = serviceDefaults(spec)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.services {
		if s.ID == spec.ID || s.Name == spec.Name {
			return Service{}, fmt.Errorf("renderemu: service %q (%s) already exists", spec.Name, spec.ID)
		}
	}
	s := e.newService(spec)
	now := s.CreatedAt
	for k, v := range spec.EnvVars {
		s.env[k] = v
	}
	d := e.newDeploy(s, "new_commit", "", "")
	d.Status, d.StartedAt, d.FinishedAt = DeployLive, &now, &now
	e.services = append(e.services, s)
	return s.view(), nil
}

// newService builds a service from spec (defaults filled); call with mu held.
func (e *Emulator) newService(spec ServiceSpec) *service {
	now := e.now()
	s := &service{Service: Service{
		ID: spec.ID, AutoDeploy: "yes", Branch: "main", CreatedAt: now, UpdatedAt: now,
		DashboardURL: "https://dashboard.render.com/" + shortType(spec.Type) + "/" + spec.ID,
		Name:         spec.Name, NotifyOnFail: "default", OwnerID: e.opts.OwnerID,
		Repo: "https://github.com/alpha-orion/" + spec.Name, Slug: spec.Name, Type: spec.Type,
		Suspended: NotSuspended, Suspenders: []string{},
		ServiceDetails: ServiceDetails{
			BuildPlan: "starter", Env: spec.Runtime, Runtime: spec.Runtime, Plan: spec.Plan,
			NumInstances: spec.NumInstances, Region: spec.Region, PullRequestPreviewsEnabled: "no",
			EnvSpecificDetails: map[string]string{"buildCommand": "make build", "startCommand": "make start"},
		},
	}, env: map[string]string{}}
	if spec.Type == "web_service" {
		s.ServiceDetails.HealthCheckPath = "/healthz"
		s.ServiceDetails.URL = "https://" + spec.Name + ".onrender.com"
		s.ServiceDetails.OpenPorts = []ServerPort{{Port: 10000, Protocol: "TCP"}}
	}
	if a := spec.Autoscaling; a != nil {
		copied := *a
		s.ServiceDetails.Autoscaling = &copied
		if a.Enabled && (s.ServiceDetails.NumInstances < a.Min || s.ServiceDetails.NumInstances > a.Max) {
			s.ServiceDetails.NumInstances = a.Min
		}
	}
	if spec.Suspended {
		s.Suspended, s.Suspenders = Suspended, []string{"user"}
	}
	return s
}

// serviceDefaults fills the zero fields of spec.
func serviceDefaults(spec ServiceSpec) ServiceSpec {
	if spec.ID == "" {
		spec.ID = newID("srv")
	}
	if spec.Type == "" {
		spec.Type = "web_service"
	}
	if spec.Region == "" {
		spec.Region = "oregon"
	}
	if spec.NumInstances == 0 {
		spec.NumInstances = 1
	}
	if spec.Runtime == "" {
		spec.Runtime = "node"
	}
	if spec.Plan == "" {
		spec.Plan = "starter"
	}
	return spec
}

// shortType maps a service type to the short form env group links use.
func shortType(t string) string {
	switch t {
	case "background_worker":
		return "worker"
	case "private_service":
		return "pserv"
	case "cron_job":
		return "cron"
	case "static_site":
		return "static"
	}
	return "web"
}

// AddEnvGroup seeds an environment group linked to existing services.
func (e *Emulator) AddEnvGroup(spec EnvGroupSpec) (EnvGroup, error) {
	if spec.Name == "" {
		return EnvGroup{}, fmt.Errorf("renderemu: EnvGroupSpec.Name is required")
	}
	if spec.ID == "" {
		spec.ID = newID("evg")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	g := &envGroup{EnvGroupMeta: EnvGroupMeta{
		ID: spec.ID, Name: spec.Name, OwnerID: e.opts.OwnerID, CreatedAt: now, UpdatedAt: now,
		ServiceLinks: []EnvGroupLink{},
	}, env: map[string]string{}}
	for _, id := range spec.ServiceIDs {
		s := e.serviceByID(id)
		if s == nil {
			return EnvGroup{}, fmt.Errorf("renderemu: env group %q: service %q not found", spec.Name, id)
		}
		g.ServiceLinks = append(g.ServiceLinks, EnvGroupLink{ID: s.ID, Name: s.Name, Type: shortType(s.Type)})
	}
	for k, v := range spec.EnvVars {
		g.env[k] = v
	}
	e.groups = append(e.groups, g)
	return g.view(), nil
}

// AlphaOrion is what SeedAlphaOrion created.
type AlphaOrion struct {
	UserAPI    Service  // user-api-service: web service, 2 instances
	Monitor    Service  // blockchain-monitor: background worker, 1 instance
	Production EnvGroup // "production", linked to both, holding DATABASE_URL
}

// SeedAlphaOrion seeds the Alpha-Orion estate of the DR plan in region oregon:
// user-api-service (web, 2 instances), blockchain-monitor (worker, 1 instance)
// and the env group "production" linked to both, with DATABASE_URL set to
// databaseURL (a placeholder when empty).
func (e *Emulator) SeedAlphaOrion(databaseURL string) (AlphaOrion, error) {
	if databaseURL == "" {
		databaseURL = "postgres://neondb_owner:secret@ep-quiet-sea-000000.us-east-2.aws.neon.tech/neondb?sslmode=require"
	}
	api, err := e.AddService(ServiceSpec{Name: "user-api-service", Type: "web_service", NumInstances: 2,
		EnvVars: map[string]string{"NODE_ENV": "production", "PORT": "10000"}})
	if err != nil {
		return AlphaOrion{}, err
	}
	mon, err := e.AddService(ServiceSpec{Name: "blockchain-monitor", Type: "background_worker", NumInstances: 1,
		EnvVars: map[string]string{"NODE_ENV": "production"}})
	if err != nil {
		return AlphaOrion{}, err
	}
	prod, err := e.AddEnvGroup(EnvGroupSpec{Name: "production", ServiceIDs: []string{api.ID, mon.ID},
		EnvVars: map[string]string{
			"DATABASE_URL":                databaseURL,
			"JWT_SECRET":                  randomHex(24),
			"REDIS_URL":                   "rediss://default:secret@alpha-orion.upstash.io:6379",
			"FLASH_LOAN_CONTRACT_ADDRESS": "0x0000000000000000000000000000000000000000",
		}})
	if err != nil {
		return AlphaOrion{}, err
	}
	return AlphaOrion{UserAPI: api, Monitor: mon, Production: prod}, nil
}

// serviceByID returns the service with id, or nil; call with mu held.
func (e *Emulator) serviceByID(id string) *service {
	for _, s := range e.services {
		if s.ID == id {
			return s
		}
	}
	return nil
}
