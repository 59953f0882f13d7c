package terraform

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// markerDir holds the markers, inside the working directory's .terraform
// folder, which Terraform itself owns and version control ignores.
const markerDir = ".terraform/runbook"

// applyMarker records an apply: written before it starts, completed after.
// It holds what a new plan needs, never a secret value.
type applyMarker struct {
	Vars       map[string]string `json:"vars,omitempty"`
	SecretVars []string          `json:"secret_vars,omitempty"` // names only
	VarFiles   []string          `json:"var_files,omitempty"`
	Targets    []string          `json:"targets,omitempty"`
	PlanSHA256 string            `json:"plan_sha256,omitempty"` // the saved plan applied
	Done       bool              `json:"done"`
	Add        int               `json:"add"`
	Change     int               `json:"change"`
	Destroy    int               `json:"destroy"`
}

// defaultMarker records a set_default, so a repeated step reports the
// value the first attempt replaced.
type defaultMarker struct {
	File         string `json:"file"`
	Variable     string `json:"variable"`
	Value        any    `json:"value"`
	Previous     any    `json:"previous"`
	PreviousExpr string `json:"previous_expr"`
}

// markerPath names the marker of the step with key; "" when there is no key.
func (s *session) markerPath(action, key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, markerDir, action+"-"+hex.EncodeToString(sum[:8])+".json")
}

// readMarker loads the marker at path into v and reports whether there was one.
func readMarker(path string, v any) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return false, sdk.Permanent(fmt.Errorf("terraform: read marker %s: %v", path, err))
	}
	return true, nil
}

// writeMarker stores v at path (nothing when path is ""), atomically.
func writeMarker(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sdk.Permanent(fmt.Errorf("terraform: marker: %v", err))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return sdk.Permanent(fmt.Errorf("terraform: marker: %v", err))
	}
	if err := writeFileAtomic(path, b, 0o600); err != nil {
		return sdk.Permanent(fmt.Errorf("terraform: marker: %v", err))
	}
	return nil
}

// writeFileAtomic replaces path with b through a temporary file in the
// same folder, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
