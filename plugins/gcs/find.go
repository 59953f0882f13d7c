package gcs

import (
	"context"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"google.golang.org/api/iterator"
)

// findNewest lists the objects under a prefix and returns the one updated
// last; names break ties, so the answer does not depend on listing order.
func findNewest(ctx context.Context, c *storage.Client, bucket string, in map[string]any, log sdk.Logger) (map[string]any, error) {
	prefix, suffix := str(in, "prefix"), str(in, "suffix")
	where := gsURL(bucket, prefix)
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Updated", "Size", "CRC32C", "MD5", "Generation"}); err != nil {
		return nil, sdk.Permanent(err)
	}
	it := c.Bucket(bucket).Objects(ctx, q)
	var newest *storage.ObjectAttrs
	matched := 0
	for {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, fail(ctx, "list", where, err)
		}
		if strings.HasSuffix(a.Name, "/") || !strings.HasSuffix(a.Name, suffix) {
			continue // folder placeholders, and names the filter leaves out
		}
		matched++
		if newest == nil || a.Updated.After(newest.Updated) || a.Updated.Equal(newest.Updated) && a.Name > newest.Name {
			newest = a
		}
	}
	if newest == nil {
		return nil, sdk.NotFound("gcs: find newest: no object in gs://%s matches prefix %q and suffix %q", bucket, prefix, suffix)
	}
	age := time.Since(newest.Updated)
	log.Printf("newest of %d matching objects: %s, updated %s (%s ago), %d bytes",
		matched, gsURL(bucket, newest.Name), newest.Updated.Format(time.RFC3339), age.Round(time.Second), newest.Size)
	return map[string]any{
		"bucket": bucket, "object": newest.Name, "url": gsURL(bucket, newest.Name),
		"updated": newest.Updated, "age": age, "matched": matched,
		"size": int(newest.Size), "crc32c": crcText(newest.CRC32C), "md5": md5Text(newest.MD5), "generation": int(newest.Generation),
	}, nil
}
