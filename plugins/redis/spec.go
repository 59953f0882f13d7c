package redis

import (
	"time"

	"github.com/alpha-orion/runbook/plugins/redis/redisspec"
)

// Defaults and limits.
const (
	DefaultTimeout   = 5 * time.Second // dial, read and write, unless the timeout setting says otherwise
	DefaultScanCount = 1000            // SCAN's COUNT hint
	deleteBatch      = 500             // keys per UNLINK
	writeBatch       = 500             // SETs per pipeline
	sampleSize       = 10              // keys named in delete_pattern's sample
)

// Name is the name the plugin is served under.
const Name = redisspec.Name

// Spec is the plugin's catalogue entry. It lives in redisspec so that the
// runbook core can link it without this package's dependencies.
var Spec = redisspec.Spec
