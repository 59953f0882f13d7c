package drill

import (
	"context"
	"fmt"

	"github.com/alpha-orion/runbook/internal/redisserver"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// redisPassword is the drill's Redis password: the server asks for one, as
// Upstash does, so a runbook that forgot it fails the drill.
const redisPassword = "drill-upstash-password"

// Redis starts (once) a real redis-server standing in for Upstash: TLS only,
// with a self-signed certificate for 127.0.0.1, and a password. Its URL
// (rediss://default:PASSWORD@127.0.0.1:PORT/0) is what Upstash hands out;
// the redis plugin needs tls_insecure_skip_verify to accept the certificate.
func (w *World) Redis(ctx context.Context) (*redisserver.Server, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.memory[redisKey].(*redisserver.Server); ok {
		return s, nil
	}
	s, err := redisserver.StartWith(ctx, redisserver.Options{TLS: true, Password: redisPassword})
	if err != nil {
		return nil, fmt.Errorf("drill: start redis-server: %w", err)
	}
	if w.memory == nil {
		w.memory = map[string]any{}
	}
	w.memory[redisKey] = s
	w.closers = append(w.closers, s.Stop)
	return s, nil
}

const redisKey = "stand-in:redis"

// redisClient connects to the drill's Redis for seeding and checking.
func redisClient(s *redisserver.Server) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(s.URL())
	if err != nil {
		return nil, err
	}
	if opts.TLSConfig != nil {
		opts.TLSConfig.InsecureSkipVerify = true // the server's certificate is self-signed, on loopback
	}
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return goredis.NewClient(opts), nil
}
