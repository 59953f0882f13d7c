package postgres

import (
	"bufio"
	"bytes"
	"io"
	"time"
)

// dumpScanner watches the SQL of a dump on its way to psql: the tables it
// creates, the rows it copies into each, and whether pg_dump's closing
// "dump complete" line arrived (a dump cut short lacks it). It reads the
// shape pg_dump writes; for hand-written SQL the counts are best effort.
type dumpScanner struct {
	tables   []string
	rows     map[string]int
	copying  string // the table a COPY is loading, "" outside COPY data
	complete bool
	bytes    int64
	total    int // rows, all tables together

	// progress, when set, is called about every progressEvery.
	progress      func(s *dumpScanner)
	progressEvery time.Duration
	lastProgress  time.Time
}

// completeLine is the last comment pg_dump and pg_restore write.
var completeLine = []byte("-- PostgreSQL database dump complete")

func newDumpScanner() *dumpScanner {
	return &dumpScanner{rows: map[string]int{}, progressEvery: 10 * time.Second, lastProgress: time.Now()}
}

// readError and writeError tell apart the two ends of copy's failures.
type readError struct{ error }
type writeError struct{ error }

// Unwrap returns the read error.
func (e readError) Unwrap() error { return e.error }

// Unwrap returns the write error.
func (e writeError) Unwrap() error { return e.error }

// copy streams src to dst, scanning each line. A failure to read is a
// readError, one to write (psql has gone) a writeError.
func (s *dumpScanner) copy(dst io.Writer, src io.Reader) error {
	br := bufio.NewReaderSize(src, 256<<10)
	lineStart := true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if lineStart {
				s.line(chunk)
			}
			lineStart = chunk[len(chunk)-1] == '\n'
			s.bytes += int64(len(chunk))
			if _, werr := dst.Write(chunk); werr != nil {
				return writeError{werr}
			}
			s.tick()
		}
		switch err {
		case nil, bufio.ErrBufferFull:
			continue
		case io.EOF:
			return nil
		}
		return readError{err}
	}
}

func (s *dumpScanner) tick() {
	if s.progress == nil || time.Since(s.lastProgress) < s.progressEvery {
		return
	}
	s.lastProgress = time.Now()
	s.progress(s)
}

// line looks at the start of one line (or of a long line's first chunk).
func (s *dumpScanner) line(l []byte) {
	if s.copying != "" {
		if bytes.Equal(bytes.TrimRight(l, "\r\n"), []byte(`\.`)) {
			s.copying = ""
			return
		}
		s.rows[s.copying]++
		s.total++
		return
	}
	switch {
	case bytes.HasPrefix(l, []byte("CREATE TABLE ")):
		s.created(l[len("CREATE TABLE "):])
	case bytes.HasPrefix(l, []byte("CREATE UNLOGGED TABLE ")):
		s.created(l[len("CREATE UNLOGGED TABLE "):])
	case bytes.HasPrefix(l, []byte("COPY ")) && bytes.HasSuffix(bytes.TrimRight(l, "\r\n"), []byte("FROM stdin;")):
		s.copying = identifier(l[len("COPY "):])
		if _, ok := s.rows[s.copying]; !ok {
			s.rows[s.copying] = 0
		}
	case bytes.HasPrefix(l, []byte("INSERT INTO ")):
		name := identifier(l[len("INSERT INTO "):])
		s.rows[name]++
		s.total++
	case bytes.HasPrefix(l, completeLine):
		s.complete = true
	}
}

func (s *dumpScanner) created(rest []byte) {
	rest = bytes.TrimPrefix(rest, []byte("IF NOT EXISTS "))
	name := identifier(rest)
	s.tables = append(s.tables, name)
	if _, ok := s.rows[name]; !ok {
		s.rows[name] = 0
	}
}

// identifier returns the possibly schema-qualified, possibly quoted name
// at the start of b, as written.
func identifier(b []byte) string {
	inQuote := false
	for i, c := range b {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ' ' || c == '(' || c == '\n' || c == '\r' || c == '\t' || c == ';'):
			return string(b[:i])
		}
	}
	return string(b)
}

// tableRows returns the rows per table as a runtime map.
func (s *dumpScanner) tableRows() map[string]any {
	out := make(map[string]any, len(s.rows))
	for k, v := range s.rows {
		out[k] = v
	}
	return out
}
