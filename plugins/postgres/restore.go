package postgres

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/jackc/pgx/v5"
)

// The formats of pg_dump's output.
const (
	formatPlain     = "plain"
	formatCustom    = "custom"
	formatTar       = "tar"
	formatDirectory = "directory"
)

// dumpInfo is what the restore learned about its file before starting.
type dumpInfo struct {
	format string
	gzip   bool // plain SQL compressed with gzip
}

// detectFormat tells a dump's format from its first bytes: "PGDMP" starts a
// custom-format archive, "ustar" at offset 257 a tar one, a folder with
// toc.dat is a directory-format dump, and anything else is SQL for psql,
// possibly gzipped.
func detectFormat(file string) (dumpInfo, error) {
	fi, err := os.Stat(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return dumpInfo{}, sdk.NotFound("postgres: restore_dump: dump %s does not exist", file)
		}
		return dumpInfo{}, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %w", err))
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(file, "toc.dat")); err != nil {
			return dumpInfo{}, sdk.BadInput("postgres: restore_dump: %s is a folder without toc.dat, not a directory-format dump", file)
		}
		return dumpInfo{format: formatDirectory}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return dumpInfo{}, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %w", err))
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == 0 {
		return dumpInfo{}, sdk.Permanent(fmt.Errorf("postgres: restore_dump: dump %s is empty", file))
	}
	info := dumpInfo{format: formatPlain}
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		info.gzip = true
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return dumpInfo{}, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %w", err))
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return dumpInfo{}, sdk.Permanent(fmt.Errorf("postgres: restore_dump: dump %s is not valid gzip: %w", file, err))
		}
		head = make([]byte, 512)
		n, _ = io.ReadFull(zr, head)
		head = head[:n]
	}
	switch {
	case bytes.HasPrefix(head, []byte("PGDMP")) && info.gzip:
		return dumpInfo{}, sdk.BadInput("postgres: restore_dump: %s is a gzipped custom-format dump: gunzip it first (the format compresses already)", file)
	case bytes.HasPrefix(head, []byte("PGDMP")):
		info.format = formatCustom
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		if info.gzip {
			return dumpInfo{}, sdk.BadInput("postgres: restore_dump: %s is a gzipped tar-format dump: gunzip it first", file)
		}
		info.format = formatTar
	case bytes.IndexByte(head, 0) >= 0:
		return dumpInfo{}, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %s is neither SQL nor a pg_dump archive (binary data, no PGDMP header): corrupt or not a dump", file))
	}
	return info, nil
}

// restoreOptions are a restore_dump step's inputs.
type restoreOptions struct {
	file            string
	clean, noOwner  bool
	jobs            int
	allowIncomplete bool
	marker          bool
}

func restoreInputs(in map[string]any) restoreOptions {
	return restoreOptions{
		file:            str(in, "file"),
		clean:           boolOr(in, "clean", false),
		noOwner:         boolOr(in, "no_owner", false),
		jobs:            intOr(in, "jobs", 1),
		allowIncomplete: boolOr(in, "allow_incomplete", false),
		marker:          boolOr(in, "marker", true),
	}
}

// check refuses combinations the tools cannot do.
func (o restoreOptions) check(format string) error {
	switch {
	case o.jobs < 1:
		return sdk.BadInput("postgres: restore_dump: jobs must be at least 1, not %d", o.jobs)
	case o.jobs > 1 && format != formatCustom && format != formatDirectory:
		return sdk.BadInput("postgres: restore_dump: jobs > 1 needs a custom or directory-format dump; %s is %s", o.file, format)
	case format == formatPlain && o.clean:
		return sdk.BadInput("postgres: restore_dump: clean needs an archive (custom, tar or directory format); " +
			"a plain SQL dump drops objects only if pg_dump wrote it with --clean")
	case format == formatPlain && o.noOwner:
		return sdk.BadInput("postgres: restore_dump: no_owner needs an archive (custom, tar or directory format); " +
			"a plain SQL dump skips ownership only if pg_dump wrote it with --no-owner")
	}
	return nil
}

// atomic reports whether the restore runs as one transaction.
func (o restoreOptions) atomic() bool { return o.jobs <= 1 }

// planRestore describes a restore without doing it.
func (p *Plugin) planRestore(req sdk.Request, t *target) sdk.Plan {
	o := restoreInputs(req.Inputs)
	info, err := detectFormat(o.file)
	if err != nil {
		return sdk.Plan{Summary: fmt.Sprintf("would restore %s into %s (the dump cannot be read now: %s)", o.file, t.where, t.mask(err.Error()))}
	}
	tool := "psql"
	if info.format != formatPlain {
		tool = "pg_restore"
	}
	how := "in one transaction"
	if !o.atomic() {
		how = fmt.Sprintf("with %d parallel jobs (not one transaction)", o.jobs)
	}
	s := fmt.Sprintf("would restore the %s-format dump %s into %s with %s %s", info.format, o.file, t.where, tool, how)
	if o.clean {
		s += ", dropping the dump's objects first"
	}
	return sdk.Plan{Summary: s, Outputs: map[string]any{"format": info.format}}
}

// restore runs a restore_dump step.
func (p *Plugin) restore(ctx context.Context, t *target, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	o := restoreInputs(req.Inputs)
	info, err := detectFormat(o.file)
	if err != nil {
		return nil, err
	}
	if err := o.check(info.format); err != nil {
		return nil, err
	}
	tools := p.tools()
	psql, err := tools.find("psql")
	if err != nil {
		return nil, err
	}
	pgRestore := ""
	if info.format != formatPlain {
		if pgRestore, err = tools.find("pg_restore"); err != nil {
			return nil, err
		}
	}
	db, err := preflight(ctx, t, o.marker)
	if err != nil {
		return nil, err
	}
	r := &restoreRun{t: t, o: o, info: info, log: log, psql: psql, pgRestore: pgRestore, req: req, app: restoreAppName(req.IdempotencyKey), db: db, start: time.Now()}
	if !o.atomic() {
		return r.parallel(ctx)
	}
	return r.stream(ctx)
}

// preflight connects once, so connection failures get the driver's precise
// kinds, and checks the marker can be written; it returns the database name.
func preflight(ctx context.Context, t *target, marker bool) (string, error) {
	conn, err := t.connect(ctx, "restore_dump")
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var db, user string
	var owner bool
	err = conn.QueryRow(ctx, `select current_database(), current_user,
		pg_catalog.pg_has_role(d.datdba, 'MEMBER') or coalesce((select rolsuper from pg_catalog.pg_roles where rolname = current_user), false)
		from pg_catalog.pg_database d where d.datname = current_database()`).Scan(&db, &user, &owner)
	if err != nil {
		return "", t.fail(ctx, "restore_dump", err)
	}
	if marker && !owner {
		return "", sdk.BadInput("postgres: restore_dump: role %q does not own database %q, so the restore marker (a comment on the database) "+
			"cannot be written: restore as the owner, or set marker: false (a crashed run then cannot tell whether the restore happened)", user, db)
	}
	return db, nil
}

// restoreRun is one restore in progress.
type restoreRun struct {
	t         *target
	o         restoreOptions
	info      dumpInfo
	log       sdk.Logger
	psql      string
	pgRestore string
	req       sdk.Request
	app       string // application_name of the restore's sessions
	db        string
	start     time.Time
}

// stream pipes the dump's SQL through a scanner into psql, in one
// transaction with ON_ERROR_STOP: plain SQL straight from the file (or
// through gunzip), archives as pg_restore writes them out as SQL. Only
// when the whole dump arrived intact does psql see the end of its input
// and commit; on any failure psql is killed first, so the server rolls
// the transaction back and the database is as it was.
func (r *restoreRun) stream(ctx context.Context) (map[string]any, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, producer, err := r.source(ctx)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if producer != nil {
		defer producer.stop() // reaps pg_restore however this ends
	}
	psqlErr := &tailBuffer{max: 64 << 10}
	cmd := exec.CommandContext(ctx, r.psql, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1",
		"--single-transaction", "-f", "-", "-d", r.t.psqlConn(r.app))
	cmd.Env = r.t.toolEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = io.Discard, psqlErr
	cmd.SysProcAttr = toolSysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %w", err))
	}
	if err := cmd.Start(); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("postgres: restore_dump: start psql: %w", err))
	}
	r.log.Printf("restoring the %s dump %s into %s with psql, in one transaction", r.describeFormat(), r.o.file, r.t.where)
	sc := newDumpScanner()
	sc.progress = func(s *dumpScanner) {
		r.log.Printf("streamed %s to psql so far (not committed yet): %d tables, %d rows", sizeText(s.bytes), len(s.tables), s.total)
	}
	copyErr := sc.copy(stdin, src)
	// abort kills psql before its input ends, so it never commits.
	abort := func(cause error) (map[string]any, error) {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
		_ = cmd.Wait()
		if producer != nil {
			producer.stop()
		}
		r.endSessions()
		return nil, cause
	}
	var we writeError
	if errors.As(copyErr, &we) {
		// psql stopped reading: it failed, and says why on stderr.
		_ = stdin.Close()
		werr := cmd.Wait()
		if producer != nil {
			producer.stop()
		}
		r.endSessions()
		return nil, r.toolError(ctx, "psql", psqlErr.String(), werr)
	}
	if copyErr != nil {
		return abort(r.readFailure(ctx, copyErr, producer))
	}
	if producer != nil {
		if err := producer.wait(); err != nil {
			return abort(r.toolError(ctx, "pg_restore", producer.stderr.String(), err))
		}
	}
	if !sc.complete && !r.o.allowIncomplete {
		return abort(sdk.Permanent(fmt.Errorf("postgres: restore_dump: %s is incomplete: it lacks pg_dump's closing %q line, "+
			"so it was probably cut short (truncated upload or download); nothing was restored. "+
			"For SQL that pg_dump did not write, set allow_incomplete: true", r.o.file, string(completeLine))))
	}
	out := r.outputs(len(sc.tables), sc.total, sc.tableRows())
	if r.o.marker {
		if _, err := io.WriteString(stdin, markerSQL(r.req, r.o.file, out)); err != nil {
			_ = stdin.Close()
			werr := cmd.Wait()
			r.endSessions()
			return nil, r.toolError(ctx, "psql", psqlErr.String(), werr)
		}
	}
	if err := stdin.Close(); err != nil {
		return abort(sdk.Permanent(fmt.Errorf("postgres: restore_dump: %w", err)))
	}
	if err := cmd.Wait(); err != nil {
		r.endSessions()
		return nil, r.toolError(ctx, "psql", psqlErr.String(), err)
	}
	out["duration"] = time.Since(r.start)
	r.warnings(psqlErr.String())
	r.log.Printf("restored %s into %s: %d tables, %d rows in %s", r.o.file, r.t.where, out["tables"], out["rows"], out["duration"])
	return out, nil
}

func (r *restoreRun) describeFormat() string {
	if r.info.gzip {
		return "gzipped plain SQL"
	}
	return r.info.format + "-format"
}

// source opens the dump's SQL: the file, gunzip of it, or pg_restore's
// SQL output for an archive.
func (r *restoreRun) source(ctx context.Context) (io.ReadCloser, *producer, error) {
	if r.info.format != formatPlain {
		args := []string{"--file=-"}
		args = append(args, r.archiveArgs()...)
		p, out, err := startProducer(ctx, r.pgRestore, append(args, r.o.file)...)
		if err != nil {
			return nil, nil, sdk.Permanent(fmt.Errorf("postgres: restore_dump: start pg_restore: %w", err))
		}
		return out, p, nil
	}
	f, err := os.Open(r.o.file)
	if err != nil {
		return nil, nil, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %w", err))
	}
	if !r.info.gzip {
		return f, nil, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, sdk.Permanent(fmt.Errorf("postgres: restore_dump: %s: %w", r.o.file, err))
	}
	return readCloser{zr, f}, nil, nil
}

// archiveArgs are pg_restore's options from the step's inputs.
func (r *restoreRun) archiveArgs() []string {
	var args []string
	if r.o.clean {
		args = append(args, "--clean", "--if-exists")
	}
	if r.o.noOwner {
		args = append(args, "--no-owner")
	}
	return args
}

// readFailure explains why the dump could not be read to its end.
func (r *restoreRun) readFailure(ctx context.Context, err error, p *producer) error {
	if p != nil {
		if werr := p.wait(); werr != nil {
			return r.toolError(ctx, "pg_restore", p.stderr.String(), werr)
		}
	}
	if ctx.Err() != nil {
		return sdk.WithKind(sdk.KindOf(ctx.Err()), fmt.Errorf("postgres: restore_dump: %w; nothing was restored", ctx.Err()))
	}
	return sdk.Permanent(fmt.Errorf("postgres: restore_dump: reading %s failed, so it is corrupt or truncated: %v; nothing was restored", r.o.file, err))
}

// parallel runs pg_restore with several jobs straight into the database.
// That cannot be one transaction, so a failure may leave part of the dump
// restored; the marker follows in its own transaction.
func (r *restoreRun) parallel(ctx context.Context) (map[string]any, error) {
	tables, err := r.listTables(ctx)
	if err != nil {
		return nil, err
	}
	r.log.Warnf("restoring %s into %s with %d parallel pg_restore jobs: this is not one transaction, so a failure can leave it partly restored",
		r.o.file, r.t.where, r.o.jobs)
	args := []string{"--exit-on-error", "--no-password", "-j", fmt.Sprint(r.o.jobs), "-d", r.t.psqlConn(r.app)}
	args = append(append(args, r.archiveArgs()...), r.o.file)
	stderr := &tailBuffer{max: 64 << 10}
	cmd := exec.CommandContext(ctx, r.pgRestore, args...)
	cmd.Env = r.t.toolEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.SysProcAttr = toolSysProcAttr()
	if err := cmd.Run(); err != nil {
		r.endSessions()
		return nil, r.toolError(ctx, "pg_restore", stderr.String(), err)
	}
	rows, total, err := r.countRows(ctx, tables)
	if err != nil {
		return nil, err
	}
	out := r.outputs(len(tables), total, rows)
	if r.o.marker {
		if err := r.writeMarker(ctx, out); err != nil {
			return nil, err
		}
	}
	out["duration"] = time.Since(r.start)
	r.warnings(stderr.String())
	r.log.Printf("restored %s into %s: %d tables, %d rows in %s", r.o.file, r.t.where, out["tables"], out["rows"], out["duration"])
	return out, nil
}

// listTables reads the archive's table of contents (pg_restore -l): its
// TABLE entries as schema and name.
func (r *restoreRun) listTables(ctx context.Context) ([][2]string, error) {
	stderr := &tailBuffer{max: 16 << 10}
	cmd := exec.CommandContext(ctx, r.pgRestore, "-l", r.o.file)
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, r.toolError(ctx, "pg_restore", stderr.String(), err)
	}
	var tables [][2]string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, ";") {
			continue
		}
		// dumpId; tableoid oid DESC schema name owner
		fields := strings.Fields(line)
		if len(fields) >= 7 && fields[3] == "TABLE" && fields[4] != "DATA" {
			tables = append(tables, [2]string{fields[4], strings.Join(fields[5:len(fields)-1], " ")})
		}
	}
	return tables, nil
}

// countRows counts the rows of each table after a parallel restore.
func (r *restoreRun) countRows(ctx context.Context, tables [][2]string) (map[string]any, int, error) {
	conn, err := r.t.connect(ctx, "restore_dump")
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows := map[string]any{}
	total := 0
	for _, tb := range tables {
		var n int
		if err := conn.QueryRow(ctx, "select count(*) from "+pgx.Identifier{tb[0], tb[1]}.Sanitize()).Scan(&n); err != nil {
			return nil, 0, r.t.fail(ctx, "restore_dump: count rows", err)
		}
		rows[tb[0]+"."+tb[1]] = n
		total += n
	}
	return rows, total, nil
}

func (r *restoreRun) outputs(tables, rows int, tableRows map[string]any) map[string]any {
	return map[string]any{
		"format": r.info.format, "tables": tables, "rows": rows, "table_rows": tableRows, "database": r.db,
		"duration": time.Since(r.start),
	}
}

// warnings passes on what the tool printed although it succeeded.
func (r *restoreRun) warnings(stderr string) {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	n := 0
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && n < 20 {
			r.log.Warnf("%s", l)
			n++
		}
	}
}

// toolError turns a client tool's failure into an error naming the tool,
// the database and the tool's own message, the password masked.
func (r *restoreRun) toolError(ctx context.Context, tool, stderr string, err error) error {
	if ctx.Err() != nil {
		return sdk.WithKind(sdk.KindOf(ctx.Err()), fmt.Errorf("postgres: restore_dump into %s: %w", r.t.where, ctx.Err()))
	}
	msg := strings.TrimSpace(firstErrors(stderr))
	if msg == "" {
		msg = err.Error()
	}
	outcome := "nothing was restored (the transaction was rolled back)"
	if !r.o.atomic() {
		outcome = "the database may be partly restored (parallel restores are not one transaction)"
	}
	e := fmt.Errorf("postgres: restore_dump: %s failed restoring %s into %s; %s: %s", tool, r.o.file, r.t.where, outcome, msg)
	return sdk.WithKind(toolKind(stderr), errors.New(r.t.mask(e.Error())))
}

// firstErrors keeps the lines of a tool's output that say what failed.
func firstErrors(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL") || strings.Contains(l, "error:") ||
			strings.Contains(l, "DETAIL") || strings.Contains(l, "LINE ") || strings.Contains(l, "HINT") {
			keep = append(keep, strings.TrimSpace(l))
		}
		if len(keep) == 6 {
			break
		}
	}
	if len(keep) == 0 {
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) > 6 {
			lines = lines[len(lines)-6:]
		}
		keep = lines
	}
	return strings.Join(keep, " | ")
}

// toolKind classifies a client tool's failure by what it printed.
func toolKind(stderr string) sdk.Kind {
	s := strings.ToLower(stderr)
	switch {
	case strings.Contains(s, "connection refused"), strings.Contains(s, "could not connect"),
		strings.Contains(s, "timeout expired"), strings.Contains(s, "server closed the connection"),
		strings.Contains(s, "the database system is starting up"), strings.Contains(s, "the database system is shutting down"),
		strings.Contains(s, "too many clients"), strings.Contains(s, "could not translate host name"):
		return sdk.KindRetryable
	case strings.Contains(s, "password authentication failed"), strings.Contains(s, "no password supplied"):
		return sdk.KindUnauthenticated
	case strings.Contains(s, "database \"") && strings.Contains(s, "\" does not exist") && !strings.Contains(s, "error:  "):
		return sdk.KindNotFound
	case strings.Contains(s, "permission denied"), strings.Contains(s, "must be owner"):
		return sdk.KindPermissionDenied
	}
	return sdk.KindPermanent
}

// restoreAppName is the application_name of a restore's sessions, so
// Reconcile can see a restore of the same step still running and a failed
// restore can end its own sessions.
func restoreAppName(key string) string {
	sum := sha256.Sum256([]byte(key))
	if key == "" {
		_, _ = rand.Read(sum[:])
	}
	return "runbook-restore-" + hex.EncodeToString(sum[:8])
}

// endSessions terminates the server side of a failed or cancelled
// restore. Killing psql drops its connection, but a backend busy with a
// long statement (an index build, say) only notices when the statement
// ends; terminating it rolls the transaction back now and releases its
// locks, so a retry does not wait behind it and Reconcile can answer.
func (r *restoreRun) endSessions() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := r.t.connect(ctx, "restore_dump: end sessions")
	if err != nil {
		r.log.Warnf("could not end the restore's server sessions: %v", err)
		return
	}
	defer conn.Close(ctx)
	for {
		var left int
		err := conn.QueryRow(ctx, `select count(pg_catalog.pg_terminate_backend(pid)) from pg_catalog.pg_stat_activity
			where application_name = $1 and pid <> pg_catalog.pg_backend_pid()`, r.app).Scan(&left)
		if err != nil {
			r.log.Warnf("could not end the restore's server sessions: %v", r.t.mask(err.Error()))
			return
		}
		if left == 0 {
			return
		}
		select {
		case <-ctx.Done():
			r.log.Warnf("the restore's server sessions have not ended yet")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sizeText formats a byte count for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// producer is pg_restore writing an archive out as SQL.
type producer struct {
	cmd    *exec.Cmd
	stderr *tailBuffer
	done   bool
	err    error
}

func startProducer(ctx context.Context, path string, args ...string) (*producer, io.ReadCloser, error) {
	p := &producer{cmd: exec.CommandContext(ctx, path, args...), stderr: &tailBuffer{max: 64 << 10}}
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = toolSysProcAttr()
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, nil, err
	}
	return p, out, nil
}

// wait waits for the tool once its output is read.
func (p *producer) wait() error {
	if !p.done {
		p.done, p.err = true, p.cmd.Wait()
	}
	return p.err
}

// stop kills the tool and reaps it.
func (p *producer) stop() {
	if !p.done {
		_ = p.cmd.Process.Kill()
		_ = p.wait()
	}
}

// tailBuffer keeps the first and the last bytes written to it.
type tailBuffer struct {
	max  int
	head []byte
	tail []byte
	cut  bool
}

// Write keeps p's bytes that fit the head, and the newest in the tail.
func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max/2 - len(b.head); room > 0 {
		take := min(room, len(p))
		b.head = append(b.head, p[:take]...)
		p = p[take:]
	}
	b.tail = append(b.tail, p...)
	if over := len(b.tail) - b.max/2; over > 0 {
		b.tail = b.tail[over:]
		b.cut = true
	}
	return n, nil
}

// String returns the head and the tail, with a mark where bytes were dropped.
func (b *tailBuffer) String() string {
	if b.cut {
		return string(b.head) + "\n…\n" + string(b.tail)
	}
	return string(b.head) + string(b.tail)
}
