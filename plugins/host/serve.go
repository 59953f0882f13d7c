package host

import (
	"fmt"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// ServeIfPlugin serves a built-in plugin when args (os.Args[1:]) are
// {PluginArg, NAME}, which is how a Manager starts one, and reports whether
// it did; main returns when served is true. It returns when the engine is
// done with the plugin, or with an error when NAME is not in builtins or no
// engine started the process.
func ServeIfPlugin(args []string, builtins map[string]func() sdk.Plugin) (served bool, err error) {
	if len(args) == 0 || args[0] != PluginArg {
		return false, nil
	}
	if len(args) != 2 {
		return true, fmt.Errorf("%s takes one argument, the name of a built-in plugin", PluginArg)
	}
	newPlugin, ok := builtins[args[1]]
	if !ok {
		return true, fmt.Errorf("no built-in plugin %q", args[1])
	}
	return true, sdk.Serve(newPlugin())
}
