package drill

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// terraformFixtures are the drills' Terraform configurations: the .tf
// files of each folder under fixtures. They use only Terraform's built-in provider (terraform_data) and a
// local backend, so the real terraform binary runs them offline; each
// explains in a comment what its production counterpart creates.
//
//go:embed fixtures/*/*.tf
var terraformFixtures embed.FS

// TerraformFixture writes the configuration fixtures/NAME into a fresh
// folder of the drill's scratch folder and returns its path, for the
// terraform plugin's dir setting. The scenario needs "terraform" (the
// binary is not fetched automatically). State and .terraform stay in that
// folder and go with the world.
func (w *World) TerraformFixture(name string) (string, error) {
	src := path.Join("fixtures", name)
	if _, err := fs.Stat(terraformFixtures, path.Join(src, "main.tf")); err != nil {
		return "", fmt.Errorf("drill: no Terraform fixture %q: %w", name, err)
	}
	dst, err := os.MkdirTemp(w.Dir, "terraform-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("drill: Terraform fixture %s: %w", name, err)
	}
	err = fs.WalkDir(terraformFixtures, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, filepath.FromSlash(p))
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := terraformFixtures.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("drill: Terraform fixture %s: %w", name, err)
	}
	return dst, nil
}

// TerraformResource is one resource instance in a local state file.
type TerraformResource struct {
	Address    string
	Attributes map[string]any
}

// Input returns a key of a terraform_data resource's input (stored in the
// state as {"value": ..., "type": ...}), or nil.
func (r TerraformResource) Input(key string) any {
	in, _ := r.Attributes["input"].(map[string]any)
	v, _ := in["value"].(map[string]any)
	return v[key]
}

// TerraformState reads the resources of the local state in dir (what an
// apply left behind), for a scenario's Verify.
func TerraformState(dir string) ([]TerraformResource, error) {
	b, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		return nil, err
	}
	var st struct {
		Resources []struct {
			Mode, Type, Name string
			Instances        []struct {
				Attributes map[string]any `json:"attributes"`
			}
		}
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("terraform.tfstate: %w", err)
	}
	var out []TerraformResource
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		for _, in := range r.Instances {
			out = append(out, TerraformResource{Address: r.Type + "." + r.Name, Attributes: in.Attributes})
		}
	}
	return out, nil
}
