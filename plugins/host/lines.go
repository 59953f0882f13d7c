package host

import (
	"bytes"
	"io"
	"sync"
)

// maxHeld is how much of an unfinished line a lineWriter holds back.
const maxHeld = 64 << 10

// lineWriter passes on whole lines only, so the writer downstream (which
// masks secrets) never sees a line, or a secret, cut in two. What is left
// is passed on by flush, when the process has ended.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w} }

// Write holds p back until its line ends.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 && len(l.buf) <= maxHeld {
		return len(p), nil
	}
	if i < 0 {
		i = len(l.buf) - 1 // a line too long to hold: pass it on as it is
	}
	_, err := l.w.Write(l.buf[:i+1])
	l.buf = append(l.buf[:0], l.buf[i+1:]...)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush passes on an unfinished last line.
func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.w.Write(l.buf)
		l.buf = nil
	}
}
