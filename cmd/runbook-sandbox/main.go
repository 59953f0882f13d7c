// Command runbook-sandbox holds the stand-ins `runbook drill` rehearses
// runbooks against: emulators of the Neon and Render APIs, fake GCS, a
// simulated chain, a DNS server, the stand-in application, and throwaway
// PostgreSQL and Redis servers. `runbook drill` starts it and drives it
// over its standard input and output (see internal/sandbox); none of it
// is linked into the runbook core or the provider plugins.
//
//	runbook-sandbox serve               # answer JSON-line requests on stdin (what runbook drill does)
//	runbook-sandbox serve neon|render   # serve one stand-in on its own until Ctrl-C (see internal/standalone)
//	runbook-sandbox list                # the runbooks it can drill
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alpha-orion/runbook/internal/drill"
	"github.com/alpha-orion/runbook/internal/sandbox"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "serve" {
		os.Exit(serveOne(os.Args[2], os.Args[3:]))
	}
	if len(os.Args) != 2 {
		usage()
	}
	switch os.Args[1] {
	case "list":
		for _, d := range (&drill.Host{}).Drills() {
			fmt.Println(d.Runbook)
		}
	case "serve":
		os.Exit(serve())
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: runbook-sandbox serve|list\n       runbook-sandbox serve neon|render [--addr HOST:PORT] [--json]\n\n"+
		"The stand-ins of `runbook drill`; runbook drill starts this program itself.\n"+
		"`serve neon` or `serve render` serves one stand-in on its own, seeded, until Ctrl-C.")
	os.Exit(2)
}

func serve() int {
	// Ctrl-C reaches the whole process group: the core decides when the
	// drill ends and closes our input; SIGTERM stops us directly.
	signal.Ignore(os.Interrupt)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	h := &drill.Host{}
	done := make(chan error, 1)
	go func() { done <- sandbox.Serve(ctx, os.Stdin, os.Stdout, h) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
	}
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "runbook-sandbox:", err)
		return 1
	}
	return 0
}
