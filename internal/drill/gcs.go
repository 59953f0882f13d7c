package drill

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// GCS is the drill's Google Cloud Storage: fake-gcs-server served over HTTP
// on loopback, so the gcs plugin (another process) reaches it through its
// base_url setting. It records which objects were read, so a scenario can
// check which backup a runbook actually downloaded.
type GCS struct {
	*fakestorage.Server
	url string
	srv *http.Server

	mu    sync.Mutex
	reads []ObjectRead
	// corruptSkip and corruptLeft: a chaos drill's downloads with bad bytes (corruptReads).
	corruptSkip, corruptLeft, corrupted int
}

// ObjectRead is one download of an object's content.
type ObjectRead struct {
	Bucket, Object string
}

// GCS starts (once) the fake GCS server.
func (w *World) GCS() (*GCS, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if g, ok := w.memory[gcsKey].(*GCS); ok {
		return g, nil
	}
	l, err := net.Listen("tcp", loopback())
	if err != nil {
		return nil, fmt.Errorf("drill: start fake GCS: %w", err)
	}
	// PublicHost without a port matches the listener's host on any port,
	// so XML-style reads (GET /bucket/object) are routed too.
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: true, Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1",
	})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("drill: start fake GCS: %w", err)
	}
	g := &GCS{Server: fake, url: "http://" + l.Addr().String()}
	g.srv = &http.Server{Handler: g.recording(fake.HTTPHandler()), ReadHeaderTimeout: 5 * time.Second}
	go g.srv.Serve(l)
	if w.memory == nil {
		w.memory = map[string]any{}
	}
	w.memory[gcsKey] = g
	w.closers = append(w.closers, func() error { fake.Stop(); return g.srv.Close() })
	return g, nil
}

const gcsKey = "stand-in:gcs"

// BaseURL is the JSON API endpoint, for the gcs plugin's base_url setting.
func (g *GCS) BaseURL() string { return g.url + "/storage/v1/" }

// PutObject stores an object with explicit Created and Updated times, so
// "newest" does not depend on when the drill ran its setup.
func (g *GCS) PutObject(bucket, name string, updated time.Time, content []byte) {
	g.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{
			BucketName: bucket, Name: name, ContentType: "application/octet-stream",
			Created: updated, Updated: updated,
		},
		Content: content,
	})
}

// Reads returns the object downloads served so far, in order.
func (g *GCS) Reads() []ObjectRead {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]ObjectRead(nil), g.reads...)
}

// recording wraps the fake's handler to note every read of an object's
// content: JSON API media reads (…/b/BUCKET/o/OBJECT?alt=media, under
// /storage/v1 or /download/storage/v1) and XML API reads (/BUCKET/OBJECT).
func (g *GCS) recording(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if rd, ok := mediaRead(r.URL); ok {
				g.mu.Lock()
				g.reads = append(g.reads, rd)
				g.mu.Unlock()
				if g.takeCorruption() {
					w = &corruptWriter{ResponseWriter: w}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func mediaRead(u *url.URL) (ObjectRead, bool) {
	p := u.EscapedPath()
	for _, prefix := range []string{"/download/storage/v1/b/", "/storage/v1/b/"} {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		bucket, object, ok := strings.Cut(rest, "/o/")
		if !ok || u.Query().Get("alt") != "media" {
			return ObjectRead{}, false
		}
		return unescapedRead(bucket, object)
	}
	if strings.HasPrefix(p, "/storage/") || strings.HasPrefix(p, "/upload/") || strings.HasPrefix(p, "/_internal/") {
		return ObjectRead{}, false
	}
	bucket, object, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !ok || object == "" {
		return ObjectRead{}, false
	}
	return unescapedRead(bucket, object)
}

func unescapedRead(bucket, object string) (ObjectRead, bool) {
	b, err1 := url.PathUnescape(bucket)
	o, err2 := url.PathUnescape(object)
	if err1 != nil || err2 != nil {
		return ObjectRead{}, false
	}
	return ObjectRead{Bucket: b, Object: o}, true
}
