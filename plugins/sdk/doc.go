// Package sdk is what a runbook plugin is written against.
//
// A plugin is one Go type that implements Plugin, usually by embedding Base
// for the defaults, and a main that calls Serve:
//
//	type neon struct{ sdk.Base; ... }
//
//	func (*neon) Spec() catalog.Plugin { return Spec }
//	func (n *neon) Configure(ctx context.Context, cfg map[string]any) error { ... }
//	func (n *neon) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) { ... }
//
//	func main() {
//		if err := sdk.Serve(&neon{}); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// The SDK checks every input and configuration value against the types the
// plugin's catalogue entry declares before the plugin sees it, so a plugin
// receives an int as int, a timestamp as time.Time and a duration as
// time.Duration; it checks the outputs the same way on their way back.
// Errors keep their kind (see Kind) across the process boundary: return
// Retryable(err) for a transient failure, BadInput(...) for wrong inputs.
//
// The same package holds the host's side of the protocol (Client), so both
// ends convert values and errors with the same code.
package sdk
