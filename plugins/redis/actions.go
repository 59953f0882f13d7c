package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	goredis "github.com/redis/go-redis/v9"
)

func (s *session) ping(ctx context.Context) (map[string]any, error) {
	start := time.Now()
	if err := s.c.Ping(ctx).Err(); err != nil {
		return nil, s.fail(ctx, "ping", err)
	}
	d := time.Since(start)
	s.log.Printf("%s answered PING in %s", s.addr, d.Round(time.Microsecond))
	return map[string]any{"latency": d}, nil
}

func (s *session) get(ctx context.Context, in map[string]any) (map[string]any, error) {
	key, _ := in["key"].(string)
	pipe := s.c.Pipeline()
	get := pipe.Get(ctx, key)
	ttl := pipe.PTTL(ctx, key)
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.fail(ctx, "get "+key, err)
	}
	if errors.Is(get.Err(), goredis.Nil) {
		return map[string]any{"value": "", "exists": false, "ttl": time.Duration(0)}, nil
	}
	left := ttl.Val()
	if left < 0 {
		left = 0 // -1: no expiry
	}
	return map[string]any{"value": get.Val(), "exists": true, "ttl": left}, nil
}

// deleteSpec is a delete_pattern step's inputs.
type deleteSpec struct {
	pattern string
	exclude []string
	count   int64
	dryRun  bool
}

func readDeleteSpec(in map[string]any) (*deleteSpec, error) {
	d := &deleteSpec{count: DefaultScanCount}
	d.pattern, _ = in["pattern"].(string)
	if strings.TrimSpace(d.pattern) == "" {
		return nil, sdk.BadInput("redis: delete_pattern needs a pattern (\"*\" to delete every key)")
	}
	if n, ok := in["count"].(int); ok {
		if n <= 0 {
			return nil, sdk.BadInput("redis: count must be positive, got %d", n)
		}
		d.count = int64(n)
	}
	if list, ok := in["exclude"].([]any); ok {
		for _, e := range list {
			pat, ok := e.(string)
			if !ok || pat == "" {
				return nil, sdk.BadInput("redis: exclude: %v is not a pattern", e)
			}
			d.exclude = append(d.exclude, pat)
		}
	}
	d.dryRun, _ = in["dry_run"].(bool)
	return d, nil
}

func (d *deleteSpec) excluded(key string) bool {
	for _, pat := range d.exclude {
		if globMatch(pat, key) {
			return true
		}
	}
	return false
}

func (d *deleteSpec) String() string {
	s := fmt.Sprintf("keys matching %s", d.pattern)
	if len(d.exclude) > 0 {
		s += " except " + strings.Join(d.exclude, ", ")
	}
	return s
}

// deletePattern scans for the keys and unlinks them a batch at a time.
func (s *session) deletePattern(ctx context.Context, in map[string]any) (map[string]any, error) {
	d, err := readDeleteSpec(in)
	if err != nil {
		return nil, err
	}
	var (
		deleted int64
		sample  []any
		batch   []string
		seen    = map[string]bool{} // a SCAN may return a key twice; only counted once in a dry run
		useDel  bool
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := s.unlink(ctx, batch, &useDel)
		if err != nil {
			return err
		}
		deleted += n
		batch = batch[:0]
		return nil
	}
	err = s.scan(ctx, d, func(key string) error {
		if d.dryRun {
			if seen[key] {
				return nil
			}
			seen[key] = true
			deleted++
		}
		if len(sample) < sampleSize {
			sample = append(sample, key)
		}
		if d.dryRun {
			return nil
		}
		batch = append(batch, key)
		if len(batch) >= deleteBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		if deleted > 0 {
			s.log.Warnf("deleted %d %s before the error", deleted, d)
		}
		return nil, err
	}
	verb := "deleted"
	if d.dryRun {
		verb = "would delete"
	}
	s.log.Printf("%s %d %s on %s", verb, deleted, d, s.addr)
	if sample == nil {
		sample = []any{}
	}
	return map[string]any{"deleted": int(deleted), "sample": sample, "dry_run": d.dryRun}, nil
}

// scan calls f for every key matching d, except the excluded ones.
func (s *session) scan(ctx context.Context, d *deleteSpec, f func(string) error) error {
	var cursor uint64
	for {
		keys, next, err := s.c.Scan(ctx, cursor, d.pattern, d.count).Result()
		if err != nil {
			return s.fail(ctx, "scan "+d.pattern, err)
		}
		for _, k := range keys {
			if d.excluded(k) {
				continue
			}
			if err := f(k); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// unlink removes keys with UNLINK, or DEL on a server without it
// (remembered in useDel), and returns how many existed.
func (s *session) unlink(ctx context.Context, keys []string, useDel *bool) (int64, error) {
	if !*useDel {
		n, err := s.c.Unlink(ctx, keys...).Result()
		if err == nil {
			return n, nil
		}
		if !strings.Contains(strings.ToLower(err.Error()), "unknown command") {
			return 0, s.fail(ctx, "unlink", err)
		}
		*useDel = true
	}
	n, err := s.c.Del(ctx, keys...).Result()
	if err != nil {
		return 0, s.fail(ctx, "del", err)
	}
	return n, nil
}

// planDelete counts the keys a delete_pattern step would delete.
func (p *Plugin) planDelete(ctx context.Context, req sdk.Request, addr string) (sdk.Plan, error) {
	d, err := readDeleteSpec(req.Inputs)
	if err != nil {
		return sdk.Plan{}, err
	}
	in := map[string]any{"pattern": d.pattern, "count": int(d.count), "dry_run": true, "exclude": toAny(d.exclude)}
	s, err := p.newSession(discard{})
	if err != nil {
		return sdk.Plan{}, err
	}
	out, err := s.deletePattern(ctx, in)
	if err != nil {
		return sdk.Plan{Summary: fmt.Sprintf("would delete %s on %s (cannot count them now: %v)", d, addr, err)}, nil
	}
	return sdk.Plan{
		Summary: fmt.Sprintf("would delete %d %s on %s", out["deleted"], d, addr),
		Outputs: map[string]any{"deleted": out["deleted"], "sample": out["sample"], "dry_run": d.dryRun},
	}, nil
}

func (s *session) setFromRows(ctx context.Context, in map[string]any) (map[string]any, error) {
	w, err := readWrites(in)
	if err != nil {
		return nil, err
	}
	entries, err := w.entries()
	if err != nil {
		return nil, err
	}
	written := 0
	for start := 0; start < len(entries); start += writeBatch {
		end := min(start+writeBatch, len(entries))
		pipe := s.c.Pipeline()
		for _, e := range entries[start:end] {
			pipe.Set(ctx, e.key, e.value, w.ttl)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			if written > 0 {
				s.log.Warnf("wrote %d of %d keys before the error", written, len(entries))
			}
			return nil, s.fail(ctx, fmt.Sprintf("set %s (row %d on)", entries[start].key, start+1), err)
		}
		written = end
	}
	if len(entries) > 0 {
		s.log.Printf("wrote %d keys on %s (first %s)%s", written, s.addr, entries[0].key, w.ttlText())
	} else {
		s.log.Printf("no rows: nothing to write")
	}
	return map[string]any{"written": written}, nil
}

// planSet says which keys a set_from_rows step would write.
func (p *Plugin) planSet(req sdk.Request, addr string) (sdk.Plan, error) {
	w, err := readWrites(req.Inputs)
	if err != nil {
		return sdk.Plan{}, err
	}
	entries, err := w.entries()
	if err != nil {
		return sdk.Plan{}, err
	}
	first := ""
	if len(entries) > 0 {
		first = " (first " + entries[0].key + ")"
	}
	return sdk.Plan{
		Summary: fmt.Sprintf("would write %d keys on %s%s%s", len(entries), addr, first, w.ttlText()),
		Outputs: map[string]any{"written": len(entries)},
	}, nil
}

// discard is a Logger that drops every line.
type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Warnf(string, ...any)  {}

func toAny(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}
