package neon

import (
	"time"

	"github.com/alpha-orion/runbook/plugins/neon/neonspec"
)

// Name is the name the plugin is served under.
const Name = neonspec.Name

// Spec is the plugin's catalogue entry. It lives in neonspec so that the
// runbook core can link it without this package's dependencies.
var Spec = neonspec.Spec

// maxRetryDelay caps the backoff between retried requests.
const maxRetryDelay = 30 * time.Second
