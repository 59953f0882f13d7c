package journal

import (
	"context"

	"github.com/alpha-orion/runbook/engine/redact"
)

// Folder is the local Store: JSON-lines journals in DIR/runs and flock
// locks in DIR/locks. It is the default, for a single machine.
type Folder string

// Create implements Store.
func (d Folder) Create(_ context.Context, runID string, r *redact.Redactor) (Log, error) {
	w, err := Create(string(d), runID, r)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Append implements Store.
func (d Folder) Append(_ context.Context, runID string, lastSeq int, r *redact.Redactor) (Log, error) {
	w, err := Append(string(d), runID, lastSeq, r)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Read implements Store.
func (d Folder) Read(_ context.Context, runID string) ([]Event, error) { return Read(string(d), runID) }

// List implements Store.
func (d Folder) List(context.Context) ([]string, error) { return List(string(d)) }

// Acquire implements Store.
func (d Folder) Acquire(_ context.Context, h Holder) (Lock, error) { return Acquire(string(d), h) }

// String implements Store.
func (d Folder) String() string { return string(d) }

// Close implements Store; a folder holds nothing open.
func (d Folder) Close() error { return nil }
