package lint

import (
	"path/filepath"
	"strings"
)

// fileName warns when a file's name differs from its metadata.name, since
// operators find runbooks by name.
type fileName struct{ Base }

func (*fileName) Name() string { return "file-name" }

func (r *fileName) VisitRunbook(c *Context) {
	name := c.Runbook.Metadata.Name
	if !name.Set || c.Runbook.File == "" || c.Runbook.File == "-" {
		return
	}
	base := filepath.Base(c.Runbook.File)
	stem := strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
	if stem != name.Value {
		c.Warn(name.Pos, r.Name(), "metadata.name %q differs from the file name %q; name the file %s.yaml", name.Value, base, name.Value)
	}
}
