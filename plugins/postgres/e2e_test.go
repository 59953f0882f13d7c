package postgres_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// TestDumpRestoreFromGCS is DR plan 3.2 end to end, every step in a plugin
// process: the real pg_dump of a seeded database goes to the bucket
// alpha-orion-backups next to older dumps, gcs.find_newest picks it,
// gcs.download fetches it with its checksums verified, postgres.create_database
// and postgres.restore_dump put it into a fresh database, and
// postgres.query counts what arrived.
func TestDumpRestoreFromGCS(t *testing.T) {
	t.Parallel()
	srv, src := pgtest.NewDatabase(t)
	seed(t, srv, src, 120)
	_, old := pgtest.NewDatabase(t)
	seed(t, srv, old, 3) // yesterday's state, in the older dumps
	for _, format := range []string{"plain", "custom"} {
		t.Run(format, func(t *testing.T) {
			ext := map[string]string{"plain": ".sql", "custom": ".dump"}[format]
			gcsSrv := newFakeGCS(t, map[string][]byte{
				"nightly/2024-05-18" + ext: read(t, pgDump(t, srv, old, format)),
				"nightly/2024-05-19" + ext: read(t, pgDump(t, srv, old, format)),
			})
			target := fmt.Sprintf("restored_%s_%d", format, time.Now().UnixNano())
			t.Cleanup(func() { _ = srv.DropDatabase(t.Context(), target) })
			h := newHost(t, map[string]map[string]any{
				"gcs":      {"bucket": "alpha-orion-backups", "base_url": gcsSrv.URL()},
				"postgres": {"url": srv.URL(target)},
			})
			start := time.Now()

			// Last night's backup job.
			object := "nightly/" + time.Now().UTC().Format("2006-01-02") + ext
			up := h.must("gcs.upload", map[string]any{"object": object, "path": pgDump(t, srv, src, format)})

			// The runbook.
			latest := h.must("gcs.find_newest", map[string]any{"prefix": "nightly/", "suffix": ext})
			if latest["object"] != object || latest["matched"] != 3 || latest["generation"] != up["generation"] {
				t.Fatalf("find_newest = %v", latest)
			}
			if age := latest["age"].(time.Duration); age > time.Hour {
				t.Fatalf("the newest dump is %s old", age)
			}
			dl := h.must("gcs.download", map[string]any{"object": latest["object"], "generation": latest["generation"],
				"path": filepath.Join(t.TempDir(), "backup_latest"+ext)})
			if dl["crc32c_verified"] != true || dl["md5_verified"] != true || dl["size"] != latest["size"] {
				t.Fatalf("download = %v", dl)
			}
			created := h.must("postgres.create_database", map[string]any{"url": srv.URL("postgres"), "name": target})
			if created["created"] != true {
				t.Fatalf("create_database = %v", created)
			}
			restored := h.must("postgres.restore_dump", map[string]any{"file": dl["path"]})
			if restored["format"] != format || restored["tables"] != 2 || restored["rows"] != 360 {
				t.Fatalf("restore_dump = %v", restored)
			}
			verify := h.must("postgres.query", map[string]any{"sql": "select count(*) as users, max(created_at) as newest from users"})
			row := verify["rows"].([]any)[0].(map[string]any)
			if row["users"] != 120 {
				t.Fatalf("the restored database has %v users, want 120", row["users"])
			}
			checkGuards(t, map[string]any{"rows": verify["rows"]}, "verify", `outputs.rows[0].users > 0`)
			t.Logf("%s: dump %d bytes, upload → find → download → create → restore → verify in %s",
				format, dl["size"], time.Since(start).Round(time.Millisecond))
		})
	}
}

// newFakeGCS serves fake-gcs-server over HTTP, the plugin being in
// another process, with the given objects last updated on successive days
// in May 2024.
func newFakeGCS(t *testing.T, objects map[string][]byte) *fakestorage.Server {
	t.Helper()
	var objs []fakestorage.Object
	for name, content := range objects {
		var d int
		fmt.Sscanf(filepath.Base(name), "2024-05-%d", &d)
		at := time.Date(2024, 5, d, 2, 0, 0, 0, time.UTC)
		objs = append(objs, fakestorage.Object{
			ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "alpha-orion-backups", Name: name, Created: at, Updated: at},
			Content:     content,
		})
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1", InitialObjects: objs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}
