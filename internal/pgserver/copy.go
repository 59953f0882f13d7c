package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// CopyDatabase creates database name as a copy of src made with pg_dump and
// psql: slower than CloneDatabase but online, as sessions on src are left alone
// and keep writing (the copy is one consistent snapshot of src).
func (s *Server) CopyDatabase(ctx context.Context, name, src string) error {
	for _, tool := range []string{"pg_dump", "psql"} {
		if _, err := os.Stat(filepath.Join(s.binDir, tool)); err != nil {
			return fmt.Errorf("pgserver: copy database: %s not found in %s: %w", tool, s.binDir, err)
		}
	}
	if err := s.CreateDatabase(ctx, name); err != nil {
		return err
	}
	if err := s.pipeDump(ctx, name, src); err != nil {
		return errors.Join(fmt.Errorf("pgserver: copy %q to %q: %w", src, name, err), s.DropDatabase(ctx, name))
	}
	return nil
}

// pipeDump runs pg_dump src | psql name.
func (s *Server) pipeDump(ctx context.Context, name, src string) error {
	dump := exec.CommandContext(ctx, filepath.Join(s.binDir, "pg_dump"), "--no-password", "-d", s.URL(src))
	load := exec.CommandContext(ctx, filepath.Join(s.binDir, "psql"),
		"--no-password", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", s.URL(name))
	var dumpErr, loadErr bytes.Buffer
	dump.Env, load.Env = childEnv(), childEnv()
	dump.Stderr, load.Stderr, load.Stdout = &dumpErr, &loadErr, &loadErr
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	dump.Stdout, load.Stdin = w, r
	errStart := errors.Join(dump.Start(), load.Start())
	// Only the children hold the pipe now, so either side ending unblocks the other.
	r.Close()
	w.Close()
	if errStart != nil {
		if dump.Process != nil {
			_ = dump.Process.Kill()
			_ = dump.Wait()
		}
		if load.Process != nil {
			_ = load.Process.Kill()
			_ = load.Wait()
		}
		return errStart
	}
	errLoad := load.Wait()
	errDump := dump.Wait()
	if errDump != nil {
		return fmt.Errorf("pg_dump: %w: %s", errDump, bytes.TrimSpace(dumpErr.Bytes()))
	}
	if errLoad != nil {
		return fmt.Errorf("psql: %w: %s", errLoad, bytes.TrimSpace(loadErr.Bytes()))
	}
	return nil
}
