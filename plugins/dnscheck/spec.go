package dnscheck

import (
	"time"

	"github.com/alpha-orion/runbook/plugins/dnscheck/dnscheckspec"
)

// DefaultTimeout bounds one query unless the timeout setting says otherwise.
const DefaultTimeout = 5 * time.Second

// Name is the name the plugin is served under.
const Name = dnscheckspec.Name

// Spec is the plugin's catalogue entry. It lives in dnscheckspec so that the
// runbook core can link it without this package's dependencies.
var Spec = dnscheckspec.Spec
