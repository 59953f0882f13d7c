package pgserver

import (
	"context"
	"testing"

	"github.com/alpha-orion/runbook/internal/testenv"
)

// TestStartFromTemplate starts two servers from one template: each has its
// own data (a table made in one is not in the other) and accepts queries.
func TestStartFromTemplate(t *testing.T) {
	_, err := FindBinDir("")
	testenv.Missing(t, "PostgreSQL", err)
	ctx := context.Background()
	tmpl, err := NewTemplate(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tmpl.Close()
	a, err := Start(ctx, Options{Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	b, err := Start(ctx, Options{Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	if err := a.Exec(ctx, "create table only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	if err := b.Exec(ctx, "select * from only_in_a"); err == nil {
		t.Error("a table made in one server is visible in the other: they share a data folder")
	}
	if err := b.Exec(ctx, "create table only_in_b (x int)"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStart compares a server's start with initdb and from a template.
func BenchmarkStart(b *testing.B) {
	_, err := FindBinDir("")
	testenv.Missing(b, "PostgreSQL", err)
	ctx := context.Background()
	tmpl, err := NewTemplate(ctx, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer tmpl.Close()
	for _, tc := range []struct {
		name string
		opts Options
	}{{"initdb", Options{}}, {"template", Options{Template: tmpl}}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				s, err := Start(ctx, tc.opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Stop()
				b.StartTimer()
			}
		})
	}
}
