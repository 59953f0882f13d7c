// Package secretgen is the "secret" plugin: it makes new random secrets (a
// JWT signing key, a password) for rotation runbooks. The value is declared
// secret, so the engine masks it everywhere and never journals it; a short
// fingerprint identifies it in the journal and the report.
package secretgen

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/secretgen/secretgenspec"
)

// Plugin is the secret generator.
type Plugin struct{ sdk.Base }

// New returns the plugin.
func New() sdk.Plugin { return &Plugin{} }

// Plan says what would be generated, without generating it.
func (*Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	n, enc, err := options(req.Inputs)
	if err != nil {
		return sdk.Plan{}, err
	}
	return sdk.Plan{Summary: "would generate a new " + enc + " secret of " + strconv.Itoa(n) + " random bytes"}, nil
}

// Execute generates the secret.
func (*Plugin) Execute(_ context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	n, enc, err := options(req.Inputs)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, sdk.Permanent(err)
	}
	var v string
	switch enc {
	case "hex":
		v = hex.EncodeToString(b)
	case "base64":
		v = base64.StdEncoding.EncodeToString(b)
	default:
		v = base64.RawURLEncoding.EncodeToString(b)
	}
	sum := sha256.Sum256([]byte(v))
	fp := hex.EncodeToString(sum[:6])
	log.Printf("generated a %d-byte %s secret (fingerprint %s)", n, enc, fp)
	return map[string]any{"value": v, "fingerprint": fp, "length": len(v)}, nil
}

func options(in map[string]any) (int, string, error) {
	n := 32
	if v, ok := in["bytes"].(int); ok {
		n = v
	}
	if n < 16 || n > 1024 {
		return 0, "", sdk.BadInput("secret: bytes must be between 16 and 1024, got %d", n)
	}
	enc := "base64url"
	if v, ok := in["encoding"].(string); ok && v != "" {
		enc = v
	}
	switch enc {
	case "hex", "base64", "base64url":
	default:
		return 0, "", sdk.BadInput("secret: encoding must be hex, base64 or base64url, got %q", enc)
	}
	return n, enc, nil
}

// Name is the name the plugin is served under.
const Name = secretgenspec.Name

// Spec is the plugin's catalogue entry. It lives in secretgenspec so that the
// runbook core can link it without this package's dependencies.
var Spec = secretgenspec.Spec

// Spec returns the catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }
