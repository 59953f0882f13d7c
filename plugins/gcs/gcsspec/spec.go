// Package gcsspec is the gcs plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package gcsspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use gcs.ACTION.
const Name = "gcs"

var bucketInput = catalog.Field{Name: "bucket", Type: catalog.String, Description: "the bucket; default: the plugin's bucket setting"}

// checksumOutputs describe an object's content as GCS records it.
var checksumOutputs = []catalog.Field{
	{Name: "size", Type: catalog.Int, Description: "bytes"},
	{Name: "crc32c", Type: catalog.String, Description: "CRC32C, base64 as GCS shows it (empty when unknown)"},
	{Name: "md5", Type: catalog.String, Description: "MD5, base64 as GCS shows it (empty for composite objects)"},
	{Name: "generation", Type: catalog.Int, Description: "the object's generation"},
}

func fields(groups ...[]catalog.Field) []catalog.Field {
	var out []catalog.Field
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "Google Cloud Storage: find the newest backup under a prefix, download it with its checksums verified, upload files.",
	Config: []catalog.Field{
		{Name: "bucket", Type: catalog.String, Description: "default bucket for steps that give none"},
		{Name: "base_url", Type: catalog.String, Description: "JSON API endpoint, for an emulator or drill (e.g. http://127.0.0.1:4443/storage/v1/); " +
			"an http:// URL is used without credentials. Default: real GCS, or STORAGE_EMULATOR_HOST when set"},
	},
	Actions: []catalog.Action{
		{
			Name:        "find_newest",
			Description: "Find the most recently updated object under a prefix (e.g. the latest nightly dump).",
			Inputs: []catalog.Field{
				bucketInput,
				{Name: "prefix", Type: catalog.String, Description: "only objects whose names start with this"},
				{Name: "suffix", Type: catalog.String, Description: "only objects whose names end with this, e.g. .sql"},
			},
			Outputs: fields([]catalog.Field{
				{Name: "bucket", Type: catalog.String},
				{Name: "object", Type: catalog.String, Description: "the object's name"},
				{Name: "url", Type: catalog.String, Description: "gs://bucket/object"},
				{Name: "updated", Type: catalog.Timestamp, Description: "when it was last written"},
				{Name: "age", Type: catalog.Duration, Description: "how long ago that was, e.g. against objectives.rpo"},
				{Name: "matched", Type: catalog.Int, Description: "how many objects matched"},
			}, checksumOutputs),
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "download",
			Description: "Download an object to a local file, streamed, verifying its CRC32C and MD5; a corrupt or truncated download leaves no file.",
			Inputs: []catalog.Field{
				bucketInput,
				{Name: "object", Type: catalog.String, Required: true},
				{Name: "path", Type: catalog.String, Description: "local destination; default: a file in a temporary folder, named after the object"},
				{Name: "generation", Type: catalog.Int, Description: "download this generation (e.g. find_newest's), not the live one"},
				{Name: "verify", Type: catalog.Bool, Description: "fail when no checksum can be verified (default true)"},
			},
			Outputs: fields([]catalog.Field{
				{Name: "path", Type: catalog.String, Description: "the downloaded file"},
				{Name: "object", Type: catalog.String},
				{Name: "sha256", Type: catalog.String, Description: "SHA-256 of the file, hex"},
				{Name: "crc32c_verified", Type: catalog.Bool},
				{Name: "md5_verified", Type: catalog.Bool},
			}, checksumOutputs),
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "upload",
			Description: "Upload a local file; GCS checks the CRC32C and MD5 the plugin computes, so a corrupted transfer is refused.",
			Inputs: []catalog.Field{
				bucketInput,
				{Name: "object", Type: catalog.String, Required: true},
				{Name: "path", Type: catalog.String, Required: true, Description: "the local file"},
				{Name: "content_type", Type: catalog.String},
				{Name: "if_absent", Type: catalog.Bool, Description: "fail (conflict) rather than replace an existing object"},
			},
			Outputs: fields([]catalog.Field{
				{Name: "bucket", Type: catalog.String},
				{Name: "object", Type: catalog.String},
				{Name: "url", Type: catalog.String},
				{Name: "updated", Type: catalog.Timestamp},
			}, checksumOutputs),
			Idempotent: true,
		},
	},
}
