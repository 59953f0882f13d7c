// Package pluginpb holds the versioned gRPC protocol between the runbook
// engine and its plugins (runbook.plugin.v1), generated from runbook.proto.
//
// Plugin authors do not use it directly: they write against package sdk,
// and the engine talks to plugins through package host.
package pluginpb

//go:generate ./gen.sh
