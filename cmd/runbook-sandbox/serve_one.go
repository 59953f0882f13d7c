package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alpha-orion/runbook/internal/standalone"
)

// serveOne serves one stand-in (neon or render) until SIGINT or SIGTERM,
// after printing how to reach it.
func serveOne(provider string, args []string) int {
	fs := flag.NewFlagSet("serve "+provider, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	asJSON := fs.Bool("json", false, "print what a client needs as one JSON line")
	every := fs.Duration("snapshot-every", 0, "neon: record the branches' history at this interval (0: only the seeded points)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !slices.Contains(standalone.Providers, provider) || fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "runbook-sandbox: serve takes one of %s and flags, got %q\n", strings.Join(standalone.Providers, ", "), strings.Join(append([]string{provider}, fs.Args()...), " "))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	s, err := standalone.Serve(startCtx, provider, standalone.Options{Addr: *addr, SnapshotEvery: *every,
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, "runbook-sandbox: "+format+"\n", args...) }})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runbook-sandbox:", err)
		return 1
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(s.Info)
	} else {
		describe(os.Stdout, s.Info)
	}
	<-ctx.Done()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "runbook-sandbox:", err)
		return 1
	}
	return 0
}

// describe prints what a person needs to use the stand-in.
func describe(w io.Writer, in standalone.Info) {
	fmt.Fprintf(w, "%s stand-in at %s (local only; stops on Ctrl-C)\n", in.Provider, in.URL)
	fmt.Fprintf(w, "  api key     %s (throwaway, valid for this stand-in only)\n", in.APIKey)
	switch in.Provider {
	case "neon":
		fmt.Fprintf(w, "  project id  %s\n", in.ProjectID)
		fmt.Fprintf(w, "  branch      %s (%s), database %s, role %s\n", in.Branch, in.BranchID, in.Database, in.Role)
		fmt.Fprintf(w, "  table %s holds %d rows; its history:\n", in.Table, in.Rows)
		for _, p := range in.History {
			fmt.Fprintf(w, "    %s  %d rows\n", p.Time.Format(time.RFC3339), p.Rows)
		}
		fmt.Fprintf(w, "\nfor a runbook:  export NEON_BASE_URL=%s NEON_PROJECT_ID=%s RUNBOOK_SECRET_NEON_API_KEY=%s\n", in.URL, in.ProjectID, in.APIKey)
		fmt.Fprintf(w, "neonctl:        neonctl --api-host %s --api-key %s branches list --project-id %s\n", in.URL, in.APIKey, in.ProjectID)
	case "render":
		for _, name := range sortedKeys(in.Services) {
			fmt.Fprintf(w, "  service     %s (%s)\n", name, in.Services[name])
		}
		for _, name := range sortedKeys(in.EnvGroups) {
			fmt.Fprintf(w, "  env group   %s (%s)\n", name, in.EnvGroups[name])
		}
		fmt.Fprintf(w, "\nfor a runbook:  export RENDER_BASE_URL=%s RUNBOOK_SECRET_RENDER_API_KEY=%s\n", in.URL, in.APIKey)
		fmt.Fprintf(w, "curl:           curl -H 'Authorization: Bearer %s' %s/services\n", in.APIKey, in.URL)
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
