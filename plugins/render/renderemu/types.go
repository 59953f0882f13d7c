package renderemu

import "time"

// Service is a Render service as the API returns it;
// its fields are the API's JSON fields named in their tags.
type Service struct {
	ID             string         `json:"id"`
	AutoDeploy     string         `json:"autoDeploy"`
	Branch         string         `json:"branch,omitempty"`
	CreatedAt      time.Time      `json:"createdAt"`
	DashboardURL   string         `json:"dashboardUrl"`
	EnvironmentID  string         `json:"environmentId,omitempty"`
	Name           string         `json:"name"`
	NotifyOnFail   string         `json:"notifyOnFail"`
	OwnerID        string         `json:"ownerId"`
	Repo           string         `json:"repo,omitempty"`
	RootDir        string         `json:"rootDir"`
	ServiceDetails ServiceDetails `json:"serviceDetails"`
	Slug           string         `json:"slug"`
	Suspended      string         `json:"suspended"`
	Suspenders     []string       `json:"suspenders"`
	Type           string         `json:"type"`
	UpdatedAt      time.Time      `json:"updatedAt"`
}

// ServiceDetails is the type-specific part of a service (web service and
// background worker fields).
type ServiceDetails struct {
	BuildPlan                  string            `json:"buildPlan"`
	Env                        string            `json:"env"`
	EnvSpecificDetails         map[string]string `json:"envSpecificDetails"`
	HealthCheckPath            string            `json:"healthCheckPath,omitempty"`
	NumInstances               int               `json:"numInstances"`
	OpenPorts                  []ServerPort      `json:"openPorts,omitempty"`
	Plan                       string            `json:"plan"`
	PullRequestPreviewsEnabled string            `json:"pullRequestPreviewsEnabled"`
	Region                     string            `json:"region"`
	Runtime                    string            `json:"runtime"`
	URL                        string            `json:"url,omitempty"`
	// Autoscaling is the service's autoscaling config, absent when never set.
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`
}

// ServiceEvent is one entry of a service's event log (GET
// /services/{serviceId}/events; render-oss/cli pkg/client/events, read
// 2026-12-03). The emulator logs server_restarted, whose details name the
// user who asked (triggeredByUser).
type ServiceEvent struct {
	ID        string         `json:"id"`
	ServiceID string         `json:"serviceId"`
	Timestamp time.Time      `json:"timestamp"`
	Type      string         `json:"type"`
	Details   map[string]any `json:"details"`
}

// EventServerRestarted is the event type of a restart.
const EventServerRestarted = "server_restarted"

// Autoscaling is Render's autoscalingConfig: while Enabled, Render keeps the
// instance count between Min and Max and ignores a manual scale
// (render-oss/cli pkg/client/autoscaling/autoscaling_gen.go and the
// ScaleService operation's description, read 2026-12-03).
type Autoscaling struct {
	Enabled  bool                `json:"enabled"`
	Min      int                 `json:"min"`
	Max      int                 `json:"max"`
	Criteria AutoscalingCriteria `json:"criteria"`
}

// AutoscalingCriteria is what Render scales on.
type AutoscalingCriteria struct {
	CPU    AutoscalingTarget `json:"cpu"`
	Memory AutoscalingTarget `json:"memory"`
}

// AutoscalingTarget is one criterion: a target utilisation in percent.
type AutoscalingTarget struct {
	Enabled    bool `json:"enabled"`
	Percentage int  `json:"percentage"`
}

// ServerPort is a port a web service listens on; Render lists them in a web
// service's required openPorts (render-oss/cli types_gen.go, read 2026-12-03).
type ServerPort struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"` // TCP or UDP
}

// Service suspension states, as Render names them.
const (
	Suspended    = "suspended"
	NotSuspended = "not_suspended"
)

// Deploy is a Render deploy as the API returns it;
// its fields are the API's JSON fields named in their tags.
type Deploy struct {
	ID         string        `json:"id"`
	Commit     *DeployCommit `json:"commit,omitempty"`
	Image      *DeployImage  `json:"image,omitempty"`
	Status     string        `json:"status"`
	Trigger    string        `json:"trigger"`
	StartedAt  *time.Time    `json:"startedAt,omitempty"`
	FinishedAt *time.Time    `json:"finishedAt,omitempty"`
	CreatedAt  time.Time     `json:"createdAt"`
	UpdatedAt  time.Time     `json:"updatedAt"`
}

// DeployCommit is the commit a deploy builds.
type DeployCommit struct {
	ID        string    `json:"id"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"createdAt"`
}

// DeployImage is the image an image-backed deploy runs.
type DeployImage struct {
	Ref string `json:"ref"`
	Sha string `json:"sha,omitempty"`
}

// Deploy statuses, as Render names them.
const (
	DeployCreated             = "created"
	DeployQueued              = "queued"
	DeployBuildInProgress     = "build_in_progress"
	DeployUpdateInProgress    = "update_in_progress"
	DeployPreDeployInProgress = "pre_deploy_in_progress"
	DeployLive                = "live"
	DeployDeactivated         = "deactivated"
	DeployBuildFailed         = "build_failed"
	DeployUpdateFailed        = "update_failed"
	DeployPreDeployFailed     = "pre_deploy_failed"
	DeployCanceled            = "canceled"
)

// DeployDone reports whether a deploy status is final.
func DeployDone(status string) bool {
	switch status {
	case DeployLive, DeployDeactivated, DeployBuildFailed, DeployUpdateFailed, DeployPreDeployFailed, DeployCanceled:
		return true
	}
	return false
}

// EnvVar is one environment variable.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// EnvGroup is a Render environment group as GET /env-groups/{id} returns it;
// its fields are the API's JSON fields named in their tags.
type EnvGroup struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	OwnerID       string         `json:"ownerId"`
	EnvironmentID string         `json:"environmentId,omitempty"`
	CreatedAt     time.Time      `json:"createdAt"`
	UpdatedAt     time.Time      `json:"updatedAt"`
	ServiceLinks  []EnvGroupLink `json:"serviceLinks"`
	EnvVars       []EnvVar       `json:"envVars"`
	SecretFiles   []any          `json:"secretFiles"`
}

// EnvGroupMeta is an environment group as GET /env-groups lists it (no variables);
// its fields are the API's JSON fields named in their tags.
type EnvGroupMeta struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	OwnerID       string         `json:"ownerId"`
	EnvironmentID string         `json:"environmentId,omitempty"`
	CreatedAt     time.Time      `json:"createdAt"`
	UpdatedAt     time.Time      `json:"updatedAt"`
	ServiceLinks  []EnvGroupLink `json:"serviceLinks"`
}

// EnvGroupLink is a service an environment group is linked to.
type EnvGroupLink struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"` // short form: web, worker, pserv, cron, static
}

// apiError is Render's error body.
type apiError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// The instance counts Render's manual scaling accepts (docs.render.com/scaling,
// read 2026-12-03: "a value between 1 and 100").
const (
	MinInstances = 1
	MaxInstances = 100
)
