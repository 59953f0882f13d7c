package render

import (
	"time"

	"github.com/alpha-orion/runbook/plugins/render/renderspec"
)

// Defaults of the configuration keys and inputs.
const (
	DefaultRetries        = 5
	DefaultRetryDelay     = time.Second
	DefaultPollInterval   = 5 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultDeployTimeout  = 30 * time.Minute
	maxRetryDelay         = 30 * time.Second
)

// Name is the name the plugin is served under.
const Name = renderspec.Name

// Spec is the plugin's catalogue entry. It lives in renderspec so that the
// runbook core can link it without this package's dependencies.
var Spec = renderspec.Spec
