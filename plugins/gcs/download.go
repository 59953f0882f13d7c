package gcs

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// download streams an object into a temporary file next to the
// destination, hashing it on the way, and renames it into place only when
// its size and checksums match what GCS recorded.
//
// GCS decompresses an object stored with Content-Encoding: gzip on the
// way unless the reader asks for it as stored, and only the XML API can
// ask: such objects are read through it, so the file holds the stored
// (compressed) bytes the checksums describe.
func download(ctx context.Context, cs *clients, bucket string, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	in := req.Inputs
	name := str(in, "object")
	where := gsURL(bucket, name)
	obj := cs.json.Bucket(bucket).Object(name)
	if g, ok := in["generation"].(int); ok && g > 0 {
		obj = obj.Generation(int64(g))
	}
	attrs, err := obj.Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		// GCS answers 404 for a missing bucket too: say which is missing.
		if _, berr := cs.json.Bucket(bucket).Attrs(ctx); errors.Is(berr, storage.ErrBucketNotExist) {
			err = berr
		}
	}
	if err != nil {
		return nil, fail(ctx, "download", where, err)
	}
	dest, err := destination(str(in, "path"), name, req.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	// Pin the generation read so the bytes are those the checksums describe.
	read := obj.Generation(attrs.Generation)
	if attrs.ContentEncoding == "gzip" {
		read = cs.xml.Bucket(bucket).Object(name).Generation(attrs.Generation).ReadCompressed(true)
	}
	r, err := read.NewReader(ctx)
	if err != nil {
		return nil, fail(ctx, "download", where, err)
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("gcs: download %s: %w", where, err))
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	log.Printf("downloading %s (%d bytes, generation %d) to %s", where, attrs.Size, attrs.Generation, dest)
	crc, md, sha := crc32.New(castagnoli), md5.New(), sha256.New()
	pw := &progressWriter{log: log, total: attrs.Size, every: 10 * time.Second, last: time.Now()}
	n, err := io.Copy(io.MultiWriter(tmp, crc, md, sha, pw), r)
	if err != nil {
		if strings.Contains(err.Error(), "bad CRC") {
			what := "corrupt object or transfer"
			if n != attrs.Size {
				what = fmt.Sprintf("truncated: received %d of %d bytes", n, attrs.Size)
			}
			return nil, sdk.Retryable(fmt.Errorf("gcs: download %s: checksum mismatch: the bytes received do not match the object's CRC32C "+
				"(%s): %v; the partial file was removed%s", where, what, err, againHint))
		}
		return nil, fail(ctx, "download", where, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("gcs: download %s: %w", where, err))
	}
	if err := tmp.Close(); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("gcs: download %s: %w", where, err))
	}
	v, err := verify(where, attrs, n, crc, md, boolOr(in, "verify", true))
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("gcs: download %s: %w", where, err))
	}
	keep = true
	log.Printf("downloaded %s to %s: %d bytes, crc32c verified %t, md5 verified %t", where, dest, n, v.crc, v.md5)
	return map[string]any{
		"path": dest, "object": name, "size": int(n), "sha256": hex.EncodeToString(sha.Sum(nil)),
		"crc32c": crcText(attrs.CRC32C), "md5": md5Text(attrs.MD5), "generation": int(attrs.Generation),
		"crc32c_verified": v.crc, "md5_verified": v.md5,
	}, nil
}

type verified struct{ crc, md5 bool }

// againHint ends a checksum mismatch, which is retryable: bytes corrupted
// in transfer are read right the next time, while an object corrupt at rest
// fails every attempt, and nothing is ever kept from bad bytes.
const againHint = "; the step's retry downloads it again (a corrupt object fails every attempt)"

// verify compares what was received with the object's size and checksums.
// GCS reports a CRC32C for every object and an MD5 for all but composite
// ones; a zero CRC32C with a different sum means none was reported.
func verify(where string, attrs *storage.ObjectAttrs, n int64, crc hash.Hash32, md hash.Hash, required bool) (verified, error) {
	var v verified
	if n != attrs.Size {
		return v, sdk.Permanent(fmt.Errorf("gcs: download %s: truncated: received %d bytes, the object has %d; the partial file was removed", where, n, attrs.Size))
	}
	got := crc.Sum32()
	switch {
	case got == attrs.CRC32C:
		v.crc = true
	case attrs.CRC32C != 0:
		return v, sdk.Retryable(fmt.Errorf("gcs: download %s: checksum mismatch: CRC32C of the received bytes is %s, the object's is %s "+
			"(corrupt object or transfer); the partial file was removed%s", where, crcText(got), crcText(attrs.CRC32C), againHint))
	}
	if len(attrs.MD5) > 0 {
		if sum := md.Sum(nil); !bytes.Equal(sum, attrs.MD5) {
			return v, sdk.Retryable(fmt.Errorf("gcs: download %s: checksum mismatch: MD5 of the received bytes is %s, the object's is %s "+
				"(corrupt object or transfer); the partial file was removed%s", where, md5Text(sum), md5Text(attrs.MD5), againHint))
		}
		v.md5 = true
	}
	if required && !v.crc && !v.md5 {
		return v, sdk.Permanent(fmt.Errorf("gcs: download %s: GCS reported no checksum to verify the download against; "+
			"set verify: false to accept it unverified", where))
	}
	return v, nil
}

// destination returns where a download goes: the given path, else a file
// named after the object in a temporary folder derived from the step's
// idempotency key, so a retried step writes the same file.
func destination(given, object, key string) (string, error) {
	if given != "" {
		if fi, err := os.Stat(given); err == nil && fi.IsDir() {
			return filepath.Join(given, path.Base(object)), nil
		}
		if _, err := os.Stat(filepath.Dir(given)); err != nil {
			return "", sdk.BadInput("gcs: download: the folder of path %s does not exist", given)
		}
		return given, nil
	}
	var dir string
	var err error
	if key == "" {
		dir, err = os.MkdirTemp("", "runbook-gcs-")
	} else {
		sum := sha256.Sum256([]byte(key))
		dir = filepath.Join(os.TempDir(), "runbook-gcs-"+hex.EncodeToString(sum[:8]))
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return "", sdk.Permanent(fmt.Errorf("gcs: download: %w", err))
	}
	base := path.Base(object)
	if base == "." || base == "/" || base == ".." {
		base = "object"
	}
	return filepath.Join(dir, base), nil
}

// progressWriter logs a download's progress now and then.
type progressWriter struct {
	log   sdk.Logger
	total int64
	done  int64
	every time.Duration
	last  time.Time
}

// Write counts b and logs now and then.
func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if time.Since(p.last) >= p.every && p.total > 0 {
		p.last = time.Now()
		p.log.Printf("downloaded %d of %d bytes (%d%%)", p.done, p.total, p.done*100/p.total)
	}
	return len(b), nil
}

// errIsNotExist reports a missing local file.
func errIsNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
