// Package gcs is the runbook plugin for Google Cloud Storage: it finds the
// newest backup under a prefix, downloads it to a local file with its
// checksums verified, and uploads files.
//
// Credentials never come from a runbook: against real GCS the client uses
// Application Default Credentials from the environment
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's, or the metadata server).
// STORAGE_EMULATOR_HOST, or the plugin's base_url, points it at an
// emulator such as fake-gcs-server, without credentials.
package gcs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"cloud.google.com/go/storage"
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// maxAttempts bounds the client's own attempts at one call.
const maxAttempts = 4

// Plugin is the gcs plugin.
type Plugin struct {
	sdk.Base

	mu      sync.Mutex
	bucket  string
	baseURL string
	clients *clients
}

// New returns the gcs plugin.
func New() sdk.Plugin { return &Plugin{} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure keeps the default bucket and the endpoint; the client itself
// is made on first use.
func (p *Plugin) Configure(_ context.Context, cfg map[string]any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucket, _ = cfg["bucket"].(string)
	p.baseURL, _ = cfg["base_url"].(string)
	if p.baseURL != "" {
		u, err := url.Parse(p.baseURL)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return sdk.BadInput("gcs: base_url %q is not an http(s) URL", p.baseURL)
		}
	}
	return nil
}

// clients are the plugin's storage clients: one reading through the JSON
// API, and one through the XML API for objects stored gzip-encoded, which
// only the XML API serves as stored (see download).
type clients struct {
	json, xml *storage.Client
}

// storageClients returns the plugin's clients, making them on first use.
func (p *Plugin) storageClients(ctx context.Context) (*clients, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients != nil {
		return p.clients, nil
	}
	var opts []option.ClientOption
	if p.baseURL != "" {
		opts = append(opts, option.WithEndpoint(endpoint(p.baseURL)))
		if strings.HasPrefix(p.baseURL, "http://") {
			opts = append(opts, option.WithoutAuthentication())
		}
	}
	cs := &clients{}
	for _, c := range []struct {
		dst  **storage.Client
		read option.ClientOption
	}{{&cs.json, storage.WithJSONReads()}, {&cs.xml, storage.WithXMLReads()}} {
		client, err := storage.NewClient(ctx, append(opts[:len(opts):len(opts)], c.read)...)
		if err != nil {
			return nil, sdk.Unauthenticated("gcs: create client: %v (credentials come from the environment: "+
				"GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`)", err)
		}
		// A few quick retries of transient failures, then the error goes to
		// the engine, whose retry policy the runbook sets and the journal
		// shows; the library alone would retry a refused connection until
		// the step's deadline.
		client.SetRetry(storage.WithMaxAttempts(maxAttempts),
			storage.WithBackoff(gax.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2}))
		*c.dst = client
	}
	p.clients = cs
	return cs, nil
}

// endpoint completes a base URL given as just a host to the JSON API's path.
func endpoint(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Path != "" && u.Path != "/" {
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		return base
	}
	u.Path = "/storage/v1/"
	return u.String()
}

// bucketOf returns the step's bucket, else the plugin's.
func (p *Plugin) bucketOf(in map[string]any) (string, error) {
	b, _ := in["bucket"].(string)
	if b == "" {
		p.mu.Lock()
		b = p.bucket
		p.mu.Unlock()
	}
	if b == "" {
		return "", sdk.BadInput("gcs: no bucket: give the step a bucket input or set the plugin's bucket")
	}
	return b, nil
}

// Plan says what a step would do.
func (p *Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	bucket, err := p.bucketOf(req.Inputs)
	if err != nil {
		return sdk.Plan{}, err
	}
	in := req.Inputs
	switch req.Action {
	case "find_newest":
		return sdk.Plan{Summary: fmt.Sprintf("would find the newest object in gs://%s/%s*%s", bucket, str(in, "prefix"), str(in, "suffix"))}, nil
	case "download":
		dest := str(in, "path")
		if dest == "" {
			dest = "a temporary file"
		}
		return sdk.Plan{Summary: fmt.Sprintf("would download gs://%s/%s to %s, verifying its checksums", bucket, str(in, "object"), dest)}, nil
	case "upload":
		return sdk.Plan{Summary: fmt.Sprintf("would upload %s to gs://%s/%s", str(in, "path"), bucket, str(in, "object"))}, nil
	}
	return p.Base.Plan(context.Background(), req)
}

// Execute runs one attempt of a step.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	bucket, err := p.bucketOf(req.Inputs)
	if err != nil {
		return nil, err
	}
	cs, err := p.storageClients(ctx)
	if err != nil {
		return nil, err
	}
	switch req.Action {
	case "find_newest":
		return findNewest(ctx, cs.json, bucket, req.Inputs, log)
	case "download":
		return download(ctx, cs, bucket, req, log)
	case "upload":
		return upload(ctx, cs.json, bucket, req.Inputs, log)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "gcs: no action %q", req.Action)
}

// Reconcile answers for upload: Applied when the object holds exactly the
// file's bytes (same size and CRC32C). find_newest and download are
// idempotent, so they are simply run again.
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	if req.Action != "upload" {
		return p.Base.Reconcile(ctx, req)
	}
	bucket, err := p.bucketOf(req.Inputs)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	cs, err := p.storageClients(ctx)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	return reconcileUpload(ctx, cs.json, bucket, req.Inputs)
}

// fail wraps a storage error as "gcs: CALL gs://bucket/object: cause" with
// its kind: missing buckets and objects are not found, 401 unauthenticated,
// 403 permission denied, 412 a conflict, 429, 5xx and network trouble
// retryable.
func fail(ctx context.Context, call, where string, err error) error {
	msg := fmt.Sprintf("gcs: %s %s: %v", call, where, err)
	switch {
	case ctx.Err() != nil:
		return sdk.WithKind(sdk.KindOf(ctx.Err()), fmt.Errorf("gcs: %s %s: %w", call, where, ctx.Err()))
	case errors.Is(err, storage.ErrBucketNotExist):
		return sdk.NotFound("gcs: %s %s: bucket %q does not exist", call, where, bucketName(where))
	case errors.Is(err, storage.ErrObjectNotExist):
		return sdk.NotFound("gcs: %s %s: no such object", call, where)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch {
		case ge.Code == http.StatusNotFound:
			return sdk.NotFound("%s", msg)
		case ge.Code == http.StatusUnauthorized:
			return sdk.Unauthenticated("%s (credentials come from the environment: GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`)", msg)
		case ge.Code == http.StatusForbidden:
			return sdk.Errorf(sdk.KindPermissionDenied, "%s", msg)
		case ge.Code == http.StatusPreconditionFailed || ge.Code == http.StatusConflict:
			return sdk.Conflict("%s", msg)
		case ge.Code == http.StatusTooManyRequests || ge.Code == http.StatusRequestTimeout || ge.Code >= 500:
			return sdk.Retryable(errors.New(msg))
		case ge.Code >= 400:
			return sdk.BadInput("%s", msg)
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return sdk.Retryable(errors.New(msg))
	}
	return sdk.Permanent(errors.New(msg))
}

// bucketName takes the bucket out of gs://bucket/object.
func bucketName(where string) string {
	s := strings.TrimPrefix(where, "gs://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

func gsURL(bucket, object string) string { return "gs://" + bucket + "/" + object }

// crcText formats a CRC32C as GCS does: base64 of its big-endian bytes.
func crcText(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

func md5Text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func boolOr(m map[string]any, k string, def bool) bool {
	if b, ok := m[k].(bool); ok {
		return b
	}
	return def
}
