package journal

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alpha-orion/runbook/engine/redact"
)

func TestWriteReadAndTornTail(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "r1", redact.New("s3cret-value"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := w.Write(Event{Type: StepStarted, Step: "s", Attempt: i, Message: "key s3cret-value"}, i%2 == 0); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves a torn last line; reading ignores it.
	f, _ := os.OpenFile(Path(dir, "r1"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":21,"type":"step_su`)
	f.Close()
	events, err := Read(dir, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 20 {
		t.Fatalf("read %d events, want 20", len(events))
	}
	for i, e := range events {
		if e.Seq != i+1 {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
		if e.Message != "key ***" {
			t.Errorf("secret not masked: %q", e.Message)
		}
	}
	if _, err := Read(dir, "nope"); err == nil {
		t.Error("reading a missing run succeeded")
	}
	ids, _ := List(dir)
	if len(ids) != 1 || ids[0] != "r1" {
		t.Errorf("List = %v", ids)
	}
}

func TestCorruptMiddleLineIsAnError(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(RunsDir(dir), 0o700)
	os.WriteFile(filepath.Join(RunsDir(dir), "r.jsonl"), []byte("{\"seq\":1}\nnot json\n{\"seq\":3}\n"), 0o600)
	if _, err := Read(dir, "r"); err == nil {
		t.Error("a corrupt journal read without error")
	}
}

func TestLockNamesHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, Holder{Run: "run-1", User: "alice", Runbook: "neon-pitr"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, Holder{Run: "run-2", User: "bob", Runbook: "neon-pitr"})
	le, ok := err.(*LockedError)
	if !ok || le.Holder.User != "alice" || le.Holder.Run != "run-1" {
		t.Fatalf("second acquire: %v", err)
	}
	other, err := Acquire(dir, Holder{Run: "run-3", Runbook: "other"})
	if err != nil {
		t.Fatalf("another runbook's lock: %v", err)
	}
	other.Release()
	l.Release()
	l2, err := Acquire(dir, Holder{Run: "run-4", Runbook: "neon-pitr"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

// BenchmarkDurableWrite is the journal's floor per step: one event written and made durable.
func BenchmarkDurableWrite(b *testing.B) {
	w, err := Create(b.TempDir(), "bench", redact.New())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	e := Event{Type: StepStarted, Step: "step-1", Action: "test.echo", Attempt: 1, Key: "0123456789abcdef", Inputs: map[string]any{"n": 1}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Write(e, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/write")
}
