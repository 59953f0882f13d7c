package gcs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/gcs"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// The test binary serves the plugin when the host re-executes it: every
// action below runs in a plugin process of its own and reaches the fake GCS
// over HTTP, as it would reach the real one.
func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{gcs.Name: gcs.New})
}

const bucket = "alpha-orion-backups"

var testCatalog = catalog.MustNew(gcs.Spec)

// day returns a fixture's Updated time.
func day(d int) time.Time { return time.Date(2024, 5, d, 2, 0, 0, 0, time.UTC) }

// fixtures are the bucket's objects, the newest .sql under nightly/ being 2024-05-20.sql.
var fixtures = []struct {
	name    string
	updated time.Time
}{
	{"nightly/2024-05-18.sql", day(18)},
	{"nightly/2024-05-20.sql", day(20)},
	{"nightly/2024-05-19.sql", day(19)},
	{"nightly/2024-05-21.log", day(21)},
	{"nightly/", day(22)},
	{"weekly/2024-05-25.sql", day(25)},
}

func content(name string) []byte {
	return []byte(strings.Repeat("-- dump "+name+"\n", 500))
}

// newFake starts fake-gcs-server over HTTP with the fixtures.
func newFake(t *testing.T) *fakestorage.Server {
	t.Helper()
	var objs []fakestorage.Object
	for _, f := range fixtures {
		objs = append(objs, fakestorage.Object{
			ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: f.name, Created: f.updated, Updated: f.updated, ContentType: "application/sql"},
			Content:     content(f.name),
		})
	}
	// PublicHost without a port matches the listener's host on any port, so
	// the fake also routes XML-style reads (GET /bucket/object).
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1", InitialObjects: objs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "empty-bucket"})
	return srv
}

// pluginHost runs actions through a real host.Manager.
type pluginHost struct {
	t   *testing.T
	mgr *host.Manager
}

func newHost(t *testing.T, config map[string]any) *pluginHost {
	t.Helper()
	h := plugintest.Start(t, plugintest.Options{Name: gcs.Name, Catalog: testCatalog, Config: config})
	return &pluginHost{t: t, mgr: h.Mgr}
}

// hostFor configures the plugin for the fake through base_url.
func hostFor(t *testing.T, srv *fakestorage.Server) *pluginHost {
	return newHost(t, map[string]any{"bucket": bucket, "base_url": srv.URL() + "/storage/v1/"})
}

var keys atomic.Int64

func (h *pluginHost) run(action string, in map[string]any) (map[string]any, error) {
	return h.runKey(action, in, fmt.Sprintf("%s-%d", h.t.Name(), keys.Add(1)))
}

func (h *pluginHost) runKey(action string, in map[string]any, key string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return h.mgr.Execute(ctx, gcs.Name, sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 1}, nil)
}

func (h *pluginHost) must(action string, in map[string]any) map[string]any {
	h.t.Helper()
	out, err := h.run(action, in)
	if err != nil {
		h.t.Fatalf("%s: %v", action, err)
	}
	return out
}

func crcOf(b []byte) string {
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.StdEncoding.EncodeToString(out[:])
}

func TestFindNewest(t *testing.T) {
	srv := newFake(t)
	h := hostFor(t, srv)
	tests := []struct {
		name    string
		in      map[string]any
		want    string
		matched int
	}{
		{"newest dump", map[string]any{"prefix": "nightly/", "suffix": ".sql"}, "nightly/2024-05-20.sql", 3},
		{"any suffix", map[string]any{"prefix": "nightly/"}, "nightly/2024-05-21.log", 4},
		{"whole bucket", map[string]any{"suffix": ".sql"}, "weekly/2024-05-25.sql", 4},
		{"bucket input", map[string]any{"bucket": bucket, "prefix": "weekly/"}, "weekly/2024-05-25.sql", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := h.must("find_newest", tt.in)
			if out["object"] != tt.want || out["matched"] != tt.matched || out["bucket"] != bucket || out["url"] != "gs://"+bucket+"/"+tt.want {
				t.Fatalf("find_newest = %v", out)
			}
			want := content(tt.want)
			if out["size"] != len(want) || out["crc32c"] != crcOf(want) || out["md5"] == "" || out["generation"].(int) <= 0 {
				t.Fatalf("attributes = %v", out)
			}
			updated := out["updated"].(time.Time)
			if age := out["age"].(time.Duration); age < time.Since(updated)-time.Minute || age > time.Since(updated) {
				t.Fatalf("age = %v for updated %v", age, updated)
			}
		})
	}
	out := h.must("find_newest", map[string]any{"prefix": "nightly/", "suffix": ".sql"})
	if got := out["updated"].(time.Time); !got.Equal(day(20)) {
		t.Fatalf("updated = %v, want %v", got, day(20))
	}
	_, err := h.run("find_newest", map[string]any{"prefix": "monthly/"})
	plugintest.WantKind(t, err, sdk.KindNotFound, `no object in gs://alpha-orion-backups matches prefix "monthly/"`)
	_, err = h.run("find_newest", map[string]any{"bucket": "empty-bucket"})
	plugintest.WantKind(t, err, sdk.KindNotFound, "no object in gs://empty-bucket")
	_, err = h.run("find_newest", map[string]any{"bucket": "alpha-orion-backupz", "prefix": "nightly/"})
	plugintest.WantKind(t, err, sdk.KindNotFound, `bucket "alpha-orion-backupz" does not exist`)
}

// TestEmulatorHostEnv: STORAGE_EMULATOR_HOST alone points the plugin at the
// emulator, without credentials.
func TestEmulatorHostEnv(t *testing.T) {
	srv := newFake(t)
	u, _ := url.Parse(srv.URL())
	t.Setenv("STORAGE_EMULATOR_HOST", u.Host) // the plugin process inherits it
	h := newHost(t, map[string]any{"bucket": bucket})
	if out := h.must("find_newest", map[string]any{"prefix": "nightly/", "suffix": ".sql"}); out["object"] != "nightly/2024-05-20.sql" {
		t.Fatalf("find_newest = %v", out)
	}
	dest := filepath.Join(t.TempDir(), "backup.sql")
	if out := h.must("download", map[string]any{"object": "nightly/2024-05-20.sql", "path": dest}); out["crc32c_verified"] != true {
		t.Fatalf("download = %v", out)
	}
}

func TestDownload(t *testing.T) {
	srv := newFake(t)
	h := hostFor(t, srv)
	const name = "nightly/2024-05-20.sql"
	want := content(name)
	sum := sha256.Sum256(want)
	dir := t.TempDir()
	for _, dest := range []string{filepath.Join(dir, "backup_latest.sql"), dir} {
		out := h.must("download", map[string]any{"object": name, "path": dest})
		got, err := os.ReadFile(out["path"].(string))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("downloaded %q: %v", out["path"], err)
		}
		if out["sha256"] != hex.EncodeToString(sum[:]) || out["size"] != len(want) || out["crc32c_verified"] != true || out["md5_verified"] != true ||
			out["crc32c"] != crcOf(want) {
			t.Fatalf("download = %v", out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("the folder holds %d files, want 2 (no partial files)", len(entries))
	}
	// Without a path: a temporary file, the same one for every attempt of a step.
	a, err := h.runKey("download", map[string]any{"object": name}, "step-key")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.runKey("download", map[string]any{"object": name}, "step-key")
	if err != nil {
		t.Fatal(err)
	}
	p := a["path"].(string)
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(p)) })
	if p != b["path"] || filepath.Base(p) != "2024-05-20.sql" {
		t.Fatalf("paths %v and %v", p, b["path"])
	}
	// A pinned generation.
	out := h.must("download", map[string]any{"object": name, "path": filepath.Join(dir, "pinned.sql"), "generation": a["generation"]})
	if out["generation"] != a["generation"] {
		t.Fatalf("generation = %v, want %v", out["generation"], a["generation"])
	}
	// Stored gzip-encoded: the file holds the stored bytes, which the checksums describe.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(want)
	zw.Close()
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: "nightly/encoded.sql", ContentEncoding: "gzip"}, Content: gz.Bytes()})
	out = h.must("download", map[string]any{"object": "nightly/encoded.sql", "path": filepath.Join(dir, "encoded.sql.gz")})
	if got, _ := os.ReadFile(out["path"].(string)); !bytes.Equal(got, gz.Bytes()) || out["crc32c_verified"] != true {
		t.Fatalf("gzip-encoded download = %v (%d bytes, want %d)", out, len(got), gz.Len())
	}
	tests := []struct {
		name string
		in   map[string]any
		kind sdk.Kind
		msg  string
	}{
		{"no object", map[string]any{"object": "nightly/nope.sql"}, sdk.KindNotFound, "gs://alpha-orion-backups/nightly/nope.sql: no such object"},
		{"no bucket", map[string]any{"bucket": "nope-bucket", "object": name}, sdk.KindNotFound, `bucket "nope-bucket" does not exist`},
		{"no folder", map[string]any{"object": name, "path": "/nonexistent-dir/x.sql"}, sdk.KindBadInput, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.run("download", tt.in)
			plugintest.WantKind(t, err, tt.kind, tt.msg)
		})
	}
}

// TestDownloadCorrupt: an object whose stored bytes no longer match the
// checksums GCS recorded at upload (bit rot, or a dump cut short at rest)
// fails the download and leaves no file behind. The fake keeps objects in
// files here, so the test can alter one behind its back.
func TestDownloadCorrupt(t *testing.T) {
	root := t.TempDir()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1", StorageRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	h := hostFor(t, srv)
	body := content("dump")
	local := filepath.Join(t.TempDir(), "dump.sql")
	if err := os.WriteFile(local, body, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		alter func(stored string) error
		msg   string
	}{
		{"bit flip", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte{body[len(body)/2] ^ 1}, int64(len(body)/2))
			return err
		}, "corrupt object or transfer"},
		{"cut short", func(p string) error { return os.Truncate(p, int64(len(body)/3)) }, "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "nightly/" + strings.ReplaceAll(tt.name, " ", "-") + ".sql"
			up := h.must("upload", map[string]any{"object": name, "path": local})
			if up["crc32c"] != crcOf(body) {
				t.Fatalf("upload = %v", up)
			}
			if err := tt.alter(filepath.Join(root, bucket, name)); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			_, err := h.run("download", map[string]any{"object": name, "path": filepath.Join(dir, "b.sql")})
			// Retryable: a transfer may corrupt bytes once; an object
			// corrupt at rest fails every attempt alike.
			plugintest.WantKind(t, err, sdk.KindRetryable, tt.msg)
			if !strings.Contains(err.Error(), "partial file was removed") {
				t.Fatalf("error = %v", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("a failed download left %v", entries)
			}
			t.Log(err)
		})
	}
}

// TestDownloadTruncated: a transfer cut short (a proxy drops the object's
// tail but sends a consistent response) fails, leaving no file.
func TestDownloadTruncated(t *testing.T) {
	srv := newFake(t)
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Query().Get("alt") != "media" {
			return nil
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		body = body[:len(body)/2]
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: proxy}
	go ps.Serve(l)
	t.Cleanup(func() { ps.Close() })
	h := newHost(t, map[string]any{"bucket": bucket, "base_url": "http://" + l.Addr().String()})
	dir := t.TempDir()
	_, err = h.run("download", map[string]any{"object": "nightly/2024-05-20.sql", "path": filepath.Join(dir, "b.sql")})
	plugintest.WantKind(t, err, sdk.KindRetryable, "truncated")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed download left %v", entries)
	}
}

// TestDownloadCorruptedInTransferOnce: bytes flipped on the way (a chaos
// drill's bad checksum) fail the download, retryable, leaving no file;
// the retry reads the object intact and verifies it.
func TestDownloadCorruptedInTransferOnce(t *testing.T) {
	srv := newFake(t)
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	corrupt := 1
	proxy.ModifyResponse = func(r *http.Response) error {
		mu.Lock()
		defer mu.Unlock()
		if r.Request.URL.Query().Get("alt") != "media" || corrupt == 0 {
			return nil
		}
		corrupt--
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		body[len(body)/2] ^= 0x20
		r.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: proxy}
	go ps.Serve(l)
	t.Cleanup(func() { ps.Close() })
	h := newHost(t, map[string]any{"bucket": bucket, "base_url": "http://" + l.Addr().String()})
	dir := t.TempDir()
	in := map[string]any{"object": "nightly/2024-05-20.sql", "path": filepath.Join(dir, "b.sql")}
	_, err = h.run("download", in)
	plugintest.WantKind(t, err, sdk.KindRetryable, "checksum mismatch")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed download left %v", entries)
	}
	out := h.must("download", in)
	if out["crc32c_verified"] != true {
		t.Fatalf("retry = %v", out)
	}
}

func TestUpload(t *testing.T) {
	srv := newFake(t)
	h := hostFor(t, srv)
	body := []byte(strings.Repeat("COPY public.users (id) FROM stdin;\n", 4000))
	file := filepath.Join(t.TempDir(), "dump.sql")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	const name = "nightly/2024-05-26.sql"
	in := map[string]any{"object": name, "path": file, "content_type": "application/sql"}
	rec, err := h.mgr.Reconcile(context.Background(), gcs.Name, sdk.Request{Action: "upload", Inputs: in, IdempotencyKey: "k"})
	if err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("reconcile before: %v, %v", rec, err)
	}
	out := h.must("upload", in)
	if out["size"] != len(body) || out["crc32c"] != crcOf(body) || out["generation"].(int) <= 0 || out["url"] != "gs://"+bucket+"/"+name {
		t.Fatalf("upload = %v", out)
	}
	got, err := srv.GetObject(bucket, name)
	if err != nil || !bytes.Equal(got.Content, body) || got.ContentType != "application/sql" {
		t.Fatalf("stored object: %v, %v", got.ObjectAttrs, err)
	}
	rec, err = h.mgr.Reconcile(context.Background(), gcs.Name, sdk.Request{Action: "upload", Inputs: in, IdempotencyKey: "k"})
	if err != nil || rec.State != sdk.Applied || rec.Outputs["generation"] != out["generation"] {
		t.Fatalf("reconcile after: %v, %v", rec, err)
	}
	// The newest object is now the upload.
	if n := h.must("find_newest", map[string]any{"prefix": "nightly/", "suffix": ".sql"}); n["object"] != name {
		t.Fatalf("find_newest after upload = %v", n["object"])
	}
	_, err = h.run("upload", map[string]any{"object": name, "path": file, "if_absent": true})
	plugintest.WantKind(t, err, sdk.KindConflict, "gs://alpha-orion-backups/"+name)
	_, err = h.run("upload", map[string]any{"object": name, "path": filepath.Join(t.TempDir(), "missing.sql")})
	plugintest.WantKind(t, err, sdk.KindNotFound, "does not exist")
	_, err = h.run("upload", map[string]any{"bucket": "nope-bucket", "object": name, "path": file})
	plugintest.WantKind(t, err, sdk.KindNotFound, "nope-bucket")
	if err := os.WriteFile(file, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err = h.mgr.Reconcile(context.Background(), gcs.Name, sdk.Request{Action: "upload", Inputs: in, IdempotencyKey: "k"})
	if err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("reconcile with a changed file: %v, %v", rec, err)
	}
}

// TestUnreachable: a refused connection fails soon, retryable, rather than
// being retried by the client until the step's deadline.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	h := newHost(t, map[string]any{"bucket": bucket, "base_url": "http://" + addr})
	start := time.Now()
	_, err = h.run("find_newest", map[string]any{"prefix": "nightly/"})
	plugintest.WantKind(t, err, sdk.KindRetryable, "connection refused")
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestPlanAndConfig(t *testing.T) {
	srv := newFake(t)
	h := hostFor(t, srv)
	p, err := h.mgr.Plan(context.Background(), gcs.Name, sdk.Request{Action: "download", Inputs: map[string]any{"object": "nightly/x.sql"}})
	if err != nil || p.Summary != "would download gs://alpha-orion-backups/nightly/x.sql to a temporary file, verifying its checksums" {
		t.Fatalf("plan = %q, %v", p.Summary, err)
	}
	bad := newHost(t, map[string]any{"base_url": "ftp://x"})
	_, err = bad.run("find_newest", map[string]any{"bucket": bucket})
	plugintest.WantKind(t, err, sdk.KindBadInput, "base_url")
	none := newHost(t, map[string]any{"base_url": srv.URL()})
	_, err = none.run("find_newest", nil)
	plugintest.WantKind(t, err, sdk.KindBadInput, "no bucket")
}

// TestExampleRunbooks: the runbooks in testdata lint clean, warnings included.
func TestExampleRunbooks(t *testing.T) {
	plugintest.ExamplesLintClean(t, testCatalog, "testdata/*.yaml")
}
