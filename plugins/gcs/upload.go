package gcs

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"cloud.google.com/go/storage"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// fileSums reads a local file once for its size, CRC32C and MD5.
func fileSums(p string) (size int64, crc uint32, sum []byte, err error) {
	f, err := os.Open(p)
	if err != nil {
		if errIsNotExist(err) {
			return 0, 0, nil, sdk.NotFound("gcs: upload: file %s does not exist", p)
		}
		return 0, 0, nil, sdk.Permanent(fmt.Errorf("gcs: upload: %w", err))
	}
	defer f.Close()
	c, m := crc32.New(castagnoli), md5.New()
	n, err := io.Copy(io.MultiWriter(c, m), f)
	if err != nil {
		return 0, 0, nil, sdk.Permanent(fmt.Errorf("gcs: upload: read %s: %w", p, err))
	}
	return n, c.Sum32(), m.Sum(nil), nil
}

// upload writes a local file to an object, sending its CRC32C and MD5 so
// GCS refuses bytes that changed on the way.
func upload(ctx context.Context, c *storage.Client, bucket string, in map[string]any, log sdk.Logger) (map[string]any, error) {
	name, file := str(in, "object"), str(in, "path")
	where := gsURL(bucket, name)
	size, crc, sum, err := fileSums(file)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("gcs: upload %s: %w", where, err))
	}
	defer f.Close()
	obj := c.Bucket(bucket).Object(name)
	if boolOr(in, "if_absent", false) {
		obj = obj.If(storage.Conditions{DoesNotExist: true})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons the upload on any early return
	w := obj.NewWriter(ctx)
	w.CRC32C, w.SendCRC32C, w.MD5 = crc, true, sum
	w.ContentType = str(in, "content_type")
	log.Printf("uploading %s (%d bytes) to %s", file, size, where)
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err != nil {
		return nil, fail(ctx, "upload", where, err)
	}
	if n != size {
		return nil, sdk.Permanent(fmt.Errorf("gcs: upload %s: %s shrank while uploading (%d of %d bytes)", where, file, n, size))
	}
	if err := w.Close(); err != nil {
		return nil, fail(ctx, "upload", where, err)
	}
	a := w.Attrs()
	log.Printf("uploaded %s: generation %d", where, a.Generation)
	return uploadOutputs(bucket, a), nil
}

func uploadOutputs(bucket string, a *storage.ObjectAttrs) map[string]any {
	return map[string]any{
		"bucket": bucket, "object": a.Name, "url": gsURL(bucket, a.Name), "updated": a.Updated,
		"size": int(a.Size), "crc32c": crcText(a.CRC32C), "md5": md5Text(a.MD5), "generation": int(a.Generation),
	}
}

// reconcileUpload answers Applied when the object already holds the
// file's bytes, NotApplied otherwise.
func reconcileUpload(ctx context.Context, c *storage.Client, bucket string, in map[string]any) (sdk.Reconciliation, error) {
	name, file := str(in, "object"), str(in, "path")
	where := gsURL(bucket, name)
	size, crc, _, err := fileSums(file)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	a, err := c.Bucket(bucket).Object(name).Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	if err != nil {
		return sdk.Reconciliation{}, fail(ctx, "reconcile upload", where, err)
	}
	if a.Size != size || a.CRC32C != crc {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: uploadOutputs(bucket, a)}, nil
}
