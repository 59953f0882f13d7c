package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// The cache-rehydrate drill (DR plan section 2, cache row): Upstash serves
// stale data. A real redis-server (TLS and a password, like Upstash) holds
// stale copies of every user, copies of users since deleted, derived keys
// (feeds, a leaderboard) and rate-limit counters, which must all go or be
// rewritten, next to sessions and a job queue, which must survive. The
// users table in PostgreSQL is the truth the cache is rebuilt from.
const (
	cacheUsers    = 200  // rows in users
	cacheFeeds    = 1500 // derived cache:feed:* keys (more than one SCAN/UNLINK batch)
	cacheSessions = 25
	cacheDeleted  = 10 // cache:user:* keys of users no longer in the database
	alertsQueue   = "queue:price-alerts"
)

func init() {
	register(&Scenario{
		Runbook: "cache-rehydrate",
		Needs:   []string{"postgres", "redis-server"},
		Setup:   setupCacheRehydrate,
		Verify:  verifyCacheRehydrate,
	})
}

// cachedUser is a users row as the cache holds it (cache:user:{id}).
type cachedUser struct {
	ID    int    `json:"id"`
	Email string `json:"email"`
	Plan  string `json:"plan"`
}

// cacheState is what the scenario remembers between setup and verify.
type cacheState struct {
	sessions map[string]string // key → value
}

func setupCacheRehydrate(ctx context.Context, w *World) (*Stage, error) {
	pg, err := w.Postgres(ctx)
	if err != nil {
		return nil, err
	}
	srv, err := w.Redis(ctx)
	if err != nil {
		return nil, err
	}
	if err := pg.CreateDatabase(ctx, "alpha_orion"); err != nil {
		return nil, err
	}
	if err := pgserver.ExecURL(ctx, pg.URL("alpha_orion"), fmt.Sprintf(`
create table users (id int primary key, email text not null unique, plan text not null, created_at timestamptz not null);
insert into users select i, 'user' || i || '@alpha-orion.example', (array['free', 'pro', 'team'])[1 + i %% 3],
	now() - ((%[1]d - i) || ' hours')::interval
	from generate_series(1, %[1]d) as i;`, cacheUsers)); err != nil {
		return nil, err
	}
	rdb, err := redisClient(srv)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	sessions, err := seedCache(ctx, rdb)
	if err != nil {
		return nil, fmt.Errorf("drill: seed redis: %w", err)
	}
	w.remember("cache-rehydrate", cacheState{sessions: sessions})
	return &Stage{
		Secrets: map[string]string{"REDIS_URL": srv.URL(), "DATABASE_URL": pg.URL("alpha_orion")},
		Overrides: map[string]map[string]any{
			"redis": {"tls_insecure_skip_verify": true}, // the stand-in's certificate is self-signed
		},
		Notes: []string{
			fmt.Sprintf("PostgreSQL: users table with %d rows (id, email, plan)", cacheUsers),
			fmt.Sprintf("Redis (TLS, password, as Upstash): stale cache:user:* for all %d users and %d deleted ones, %d cache:feed:* keys, cache:leaderboard:daily, ratelimit:* counters",
				cacheUsers, cacheDeleted, cacheFeeds),
			fmt.Sprintf("Redis keys that must survive: %d session:* keys (1h TTL) and the list %s", cacheSessions, alertsQueue),
		},
	}, nil
}

// seedCache writes the stale cache and the keys that must survive; it
// returns the sessions.
func seedCache(ctx context.Context, rdb *goredis.Client) (map[string]string, error) {
	pipe := rdb.Pipeline()
	for i := 1; i <= cacheUsers+cacheDeleted; i++ {
		id := i
		if i > cacheUsers {
			id = 9000 + i // deleted since
		}
		stale, _ := json.Marshal(cachedUser{ID: id, Email: fmt.Sprintf("old-user%d@alpha-orion.example", id), Plan: "free"})
		pipe.Set(ctx, fmt.Sprintf("cache:user:%d", id), stale, 0)
	}
	for i := 1; i <= cacheFeeds; i++ {
		pipe.Set(ctx, fmt.Sprintf("cache:feed:%d", i), `{"items":["stale"]}`, 0)
	}
	pipe.Set(ctx, "cache:leaderboard:daily", `[{"user":7,"profit":"1.5"}]`, 0)
	for i := 1; i <= 30; i++ {
		pipe.Set(ctx, fmt.Sprintf("ratelimit:ip:10.0.0.%d", i), i, time.Minute)
	}
	sessions := map[string]string{}
	for i := 1; i <= cacheSessions; i++ {
		key := fmt.Sprintf("session:%032x", i*7919)
		val := fmt.Sprintf(`{"user_id":%d,"issued_at":"2024-05-20T10:00:00Z"}`, i)
		sessions[key] = val
		pipe.Set(ctx, key, val, time.Hour)
	}
	pipe.RPush(ctx, alertsQueue, "eth-usd", "btc-usd", "arb-usd")
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	return sessions, nil
}

func verifyCacheRehydrate(ctx context.Context, w *World, _ *Stage) []Check {
	cs, _ := w.recall("cache-rehydrate").(cacheState)
	srv, err := w.Redis(ctx)
	if err != nil {
		return []Check{check("redis reachable", false, "%v", err)}
	}
	rdb, err := redisClient(srv)
	if err != nil {
		return []Check{check("redis reachable", false, "%v", err)}
	}
	defer rdb.Close()
	pg, _ := w.Postgres(ctx)
	users, err := readCachedUsers(ctx, pg.URL("alpha_orion"))
	if err != nil {
		return []Check{check("users readable", false, "%v", err)}
	}
	return []Check{
		staleKeysCheck(ctx, rdb, users),
		rehydratedCheck(ctx, rdb, users),
		sessionsCheck(ctx, rdb, cs.sessions),
		patternGoneCheck(ctx, rdb, "ratelimit:*", "rate-limit counters flushed"),
		queueCheck(ctx, rdb),
	}
}

// readCachedUsers reads the truth: every users row, by id.
func readCachedUsers(ctx context.Context, url string) (map[int]cachedUser, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select id, email, plan from users")
	if err != nil {
		return nil, err
	}
	out := map[int]cachedUser{}
	var u cachedUser
	_, err = pgx.ForEachRow(rows, []any{&u.ID, &u.Email, &u.Plan}, func() error {
		out[u.ID] = u
		return nil
	})
	return out, err
}

// staleKeysCheck wants no cache:* key but cache:user:{id} of a user that exists.
func staleKeysCheck(ctx context.Context, rdb *goredis.Client, users map[int]cachedUser) Check {
	keys, err := scanKeys(ctx, rdb, "cache:*")
	if err != nil {
		return check("no stale cache keys left", false, "%v", err)
	}
	var stale []string
	for _, k := range keys {
		id, err := strconv.Atoi(strings.TrimPrefix(k, "cache:user:"))
		if _, ok := users[id]; err != nil || !ok || !strings.HasPrefix(k, "cache:user:") {
			stale = append(stale, k)
		}
	}
	return check("no stale cache keys left", len(stale) == 0, "%d cache:* keys, %d not a current user's (e.g. %s)",
		len(keys), len(stale), listOrNone(first(stale, 3)))
}

// rehydratedCheck wants every user's key to hold its row, with a TTL.
func rehydratedCheck(ctx context.Context, rdb *goredis.Client, users map[int]cachedUser) Check {
	const name = "every user re-hydrated with its row"
	var wrong []string
	for id, want := range users {
		key := fmt.Sprintf("cache:user:%d", id)
		v, err := rdb.Get(ctx, key).Result()
		var got cachedUser
		if err == nil {
			err = json.Unmarshal([]byte(v), &got)
		}
		ttl, _ := rdb.TTL(ctx, key).Result()
		if err != nil || got != want || ttl <= 0 {
			wrong = append(wrong, fmt.Sprintf("%s=%q ttl %s", key, v, ttl))
		}
	}
	return check(name, len(users) > 0 && len(wrong) == 0, "%d users, %d keys wrong or missing %s",
		len(users), len(wrong), strings.Join(first(wrong, 2), "; "))
}

// sessionsCheck wants every session untouched: same value, still expiring.
func sessionsCheck(ctx context.Context, rdb *goredis.Client, sessions map[string]string) Check {
	lost := 0
	for k, want := range sessions {
		v, err := rdb.Get(ctx, k).Result()
		ttl, _ := rdb.TTL(ctx, k).Result()
		if err != nil || v != want || ttl <= 0 {
			lost++
		}
	}
	return check("session keys intact", len(sessions) > 0 && lost == 0, "%d of %d sessions lost or changed", lost, len(sessions))
}

func patternGoneCheck(ctx context.Context, rdb *goredis.Client, pattern, name string) Check {
	keys, err := scanKeys(ctx, rdb, pattern)
	return check(name, err == nil && len(keys) == 0, "%d %s keys left %s", len(keys), pattern, errText(err))
}

// queueCheck wants the unclassified job queue kept.
func queueCheck(ctx context.Context, rdb *goredis.Client) Check {
	n, err := rdb.LLen(ctx, alertsQueue).Result()
	return check("keys no pattern names are kept", err == nil && n == 3, "%s has %d items (want 3) %s", alertsQueue, n, errText(err))
}

func scanKeys(ctx context.Context, rdb *goredis.Client, pattern string) ([]string, error) {
	var out []string
	it := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for it.Next(ctx) {
		out = append(out, it.Val())
	}
	return out, it.Err()
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}
