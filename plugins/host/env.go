package host

import (
	"os"
	"sort"
	"strings"
)

// BaseEnv names the variables every plugin process receives from the
// engine's environment: what any program needs to find tools, write
// temporary files, speak the user's locale and reach the network. A name
// ending in * stands for every variable with that prefix.
var BaseEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "LANG", "LANGUAGE", "LC_*",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
}

// SecretEnvPrefix starts the variables the engine reads secrets from. A
// plugin never inherits them: secrets reach a plugin through its config
// and its inputs. Only a variable the plugin's config names explicitly
// (see pluginEnv) is passed on.
const SecretEnvPrefix = "RUNBOOK_SECRET_"

// pluginEnv returns the environment a plugin process starts with, before
// go-plugin adds its own handshake variables: BaseEnv, the names in extra
// (Options.Env for this plugin), every variable named by a config setting
// whose key ends in `_env` (the contract plugin's key_file_env: "the
// variable that holds the key file's path"), and the TLS identities.
// environ is the engine's environment, as os.Environ returns it.
func pluginEnv(environ []string, extra []string, config map[string]any, ids []string) []string {
	var explicit []string
	for k, v := range config {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_env") && s != "" {
			explicit = append(explicit, s)
		}
	}
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if matchAny(name, explicit) || !strings.HasPrefix(name, SecretEnvPrefix) && (matchAny(name, BaseEnv) || matchAny(name, extra)) {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	return append(out, ids...)
}

// matchAny reports whether name is one of patterns, or starts with the
// prefix of one that ends in *.
func matchAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if p == name || strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return false
}

// environ is os.Environ, replaced by tests.
var environ = os.Environ
