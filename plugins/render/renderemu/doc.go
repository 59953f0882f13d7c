// Package renderemu emulates the parts of the Render API v1 that runbooks use
// (services, scaling, suspend/resume/restart, deploys, service env vars,
// environment groups, creating and deleting services, custom domains) for
// tests and `runbook drill`, answering with the real
// API's shapes and errors ({"id", "message"}).
//
// Seed it with AddService and AddEnvGroup, or SeedAlphaOrion for the
// Alpha-Orion estate (user-api-service, blockchain-monitor, env group
// "production"). Deploys move created → build_in_progress →
// update_in_progress → live over successive GETs. Tests steer it with fault
// injection (InjectFault, FailNext, SetLatency, FailNextDeploys, and
// SetRegionDown for a region outage: 503 for every call touching the region),
// ask Route which service Render's edge would serve a custom domain on, and read its
// state back (Instances, EnvVars, EnvGroupVars, Deploys, Restarts, Requests).
package renderemu
