package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The restore marker lets Reconcile prove whether a restore_dump step took
// effect. It is the restored database's comment (COMMENT ON DATABASE),
// written by the same psql transaction as the restore itself, so the
// restore and its marker commit together or not at all:
//
//   - marker with the step's idempotency key: Applied, with the outputs
//     recorded in it;
//   - no such marker, and no session of this step's restore still running:
//     NotApplied, since an atomic restore that left no marker rolled back;
//   - a parallel restore (jobs > 1, not one transaction), marker: false, or
//     a session still running: Unknown.
//
// A comment rather than a table, because it adds nothing to the schema the
// application sees and pg_dump leaves it out of later dumps (it dumps
// database comments only with --create). Writing it needs ownership of the
// database, which restore_dump checks before it starts.
const markerPrefix = "runbook restore_dump "

// marker is what the comment records.
type marker struct {
	Key        string         `json:"key"`
	Run        string         `json:"run,omitempty"`
	Step       string         `json:"step,omitempty"`
	File       string         `json:"file"`
	Format     string         `json:"format"`
	Tables     int            `json:"tables"`
	Rows       int            `json:"rows"`
	TableRows  map[string]any `json:"table_rows"`
	Database   string         `json:"database"`
	DurationMS int64          `json:"duration_ms"`
	At         time.Time      `json:"at"`
}

// markerSQL returns the statement that records a restore, for the end of
// the restore's own transaction. pg_dump's SQL empties search_path, so
// every name is qualified.
func markerSQL(req sdk.Request, file string, out map[string]any) string {
	tableRows, _ := out["table_rows"].(map[string]any)
	d, _ := out["duration"].(time.Duration)
	m := marker{
		Key: req.IdempotencyKey, Run: req.RunID, Step: req.StepID, File: file,
		Format: str(out, "format"), Tables: intOr(out, "tables", 0), Rows: intOr(out, "rows", 0),
		TableRows: tableRows, Database: str(out, "database"), DurationMS: d.Milliseconds(), At: time.Now().UTC(),
	}
	b, _ := json.Marshal(m)
	// "$" would end the dollar quote; JSON reads \u0024 back as "$".
	text := markerPrefix + strings.ReplaceAll(string(b), "$", `\u0024`)
	lit := "E'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(text) + "'"
	return "\nDO $runbook_marker$ BEGIN EXECUTE pg_catalog.format('COMMENT ON DATABASE %I IS %L', pg_catalog.current_database(), " +
		lit + "); END $runbook_marker$;\n"
}

// writeMarker records a restore after the fact (parallel restores).
func (r *restoreRun) writeMarker(ctx context.Context, out map[string]any) error {
	conn, err := r.t.connect(ctx, "restore_dump: write marker")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, markerSQL(r.req, r.o.file, out)); err != nil {
		return r.t.fail(ctx, "restore_dump: write marker", err)
	}
	return nil
}

// reconcileRestore reads the marker; see markerPrefix.
func reconcileRestore(ctx context.Context, t *target, req sdk.Request) (sdk.Reconciliation, error) {
	o := restoreInputs(req.Inputs)
	if req.IdempotencyKey == "" {
		return sdk.Reconciliation{State: sdk.Unknown}, nil
	}
	conn, err := t.connect(ctx, "restore_dump: reconcile")
	if sdk.KindOf(err) == sdk.KindNotFound && o.atomic() && o.marker {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil // no database, so no restore into it
	}
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var comment *string
	var running int
	err = conn.QueryRow(ctx, `select pg_catalog.shobj_description(d.oid, 'pg_database'),
		(select count(*) from pg_catalog.pg_stat_activity a where a.application_name = $1 and a.pid <> pg_catalog.pg_backend_pid())
		from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()`, restoreAppName(req.IdempotencyKey)).Scan(&comment, &running)
	if err != nil {
		return sdk.Reconciliation{}, t.fail(ctx, "restore_dump: reconcile", err)
	}
	if m, ok := parseMarker(comment); ok && m.Key == req.IdempotencyKey {
		return sdk.Reconciliation{State: sdk.Applied, Outputs: map[string]any{
			"format": m.Format, "tables": m.Tables, "rows": m.Rows, "table_rows": m.TableRows,
			"database": m.Database, "duration": time.Duration(m.DurationMS) * time.Millisecond,
		}}, nil
	}
	if !o.atomic() || !o.marker || running > 0 {
		return sdk.Reconciliation{State: sdk.Unknown}, nil
	}
	return sdk.Reconciliation{State: sdk.NotApplied}, nil
}

func parseMarker(comment *string) (marker, bool) {
	if comment == nil || !strings.HasPrefix(*comment, markerPrefix) {
		return marker{}, false
	}
	var m marker
	if err := json.Unmarshal([]byte(strings.TrimPrefix(*comment, markerPrefix)), &m); err != nil {
		return marker{}, false
	}
	return m, true
}
