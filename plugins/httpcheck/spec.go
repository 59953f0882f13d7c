package httpcheck

import (
	"time"

	"github.com/alpha-orion/runbook/plugins/httpcheck/httpcheckspec"
)

// Defaults and limits.
const (
	DefaultTimeout = 10 * time.Second // per request, unless the step or the configuration says otherwise
	MaxBody        = 64 << 10         // bytes of the response body kept in the outputs
	excerptLen     = 200              // bytes of the body quoted in an error
	maxRedirects   = 10
)

// Name is the name the plugin is served under.
const Name = httpcheckspec.Name

// Spec is the plugin's catalogue entry. It lives in httpcheckspec so that the
// runbook core can link it without this package's dependencies.
var Spec = httpcheckspec.Spec
