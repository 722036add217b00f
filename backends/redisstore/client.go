package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Retry backoff between go-redis's attempts: short, since every attempt of a decision
// shares its redis.timeout.
const (
	minRetryBackoff = time.Millisecond
	maxRetryBackoff = 10 * time.Millisecond
)

// newClient builds the go-redis client cfg describes (defaults applied, validated):
// a Client for "standalone", a sentinel-backed FailoverClient for "sentinel", a
// ClusterClient for "cluster". Every wait it can do is bounded by the decision budget
// (redis.timeout): socket reads and writes, the wait for a pooled connection, and — since
// ContextTimeoutEnabled is on — the context deadline of each call. Dials run with
// redis.dial_timeout but a decision waits for one only until its budget ends.
func newClient(r config.RedisConfig) (redis.UniversalClient, error) {
	o := &redis.UniversalOptions{
		Addrs:                 r.Addrs,
		MasterName:            r.MasterName,
		Username:              r.Username,
		Password:              r.Password,
		DB:                    r.DB,
		PoolSize:              r.PoolSize,
		MaxRetries:            r.MaxRetries, // -1 = none, as in go-redis
		MinRetryBackoff:       minRetryBackoff,
		MaxRetryBackoff:       min(maxRetryBackoff, max(r.Timeout/4, minRetryBackoff)),
		DialTimeout:           r.DialTimeout,
		DialerRetries:         1, // one dial per attempt: retries are go-redis's, within the budget
		ReadTimeout:           r.Timeout,
		WriteTimeout:          r.Timeout,
		PoolTimeout:           r.Timeout,
		ContextTimeoutEnabled: true,
		// RESP2: the scripts' replies are arrays of integers either way, and RESP3 makes
		// go-redis look for push notifications before every reply, which we never use.
		Protocol: 2,
		// Redis before 7.2 has no CLIENT SETINFO, and only Redis Enterprise/Cloud sends
		// maintenance notifications: skip both handshakes.
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	switch r.Mode {
	case config.RedisSentinel:
		return redis.NewFailoverClient(o.Failover()), nil
	case config.RedisCluster:
		return redis.NewClusterClient(o.Cluster()), nil
	default:
		if len(r.Addrs) != 1 {
			return nil, fmt.Errorf("ratewarden: redis.addrs: standalone mode takes one address, got %d (use mode = %q for several)", len(r.Addrs), config.RedisCluster)
		}
		return redis.NewClient(o.Simple()), nil
	}
}

// contextTimeouts reports whether a caller's client applies context deadlines to socket
// I/O, without which a decision's budget holds only as far as its read timeout.
func contextTimeouts(c redis.UniversalClient) (enabled bool, known bool) {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled, true
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled, true
	}
	return false, false
}

// autoPipeliner returns c's deferred AutoPipeliner (go-redis v9.22+), which queues the
// commands of concurrent callers and sends them as one pipeline per round trip: a burst of
// decisions shares a few connections instead of queueing for one connection each, and
// Redis runs many scripts per read. A lone decision is sent at once, alone (go-redis's
// default: no coalescing delay). It returns nil — decisions then run one command per
// connection — for a client whose AutoPipeliner cannot be built (a redis.Ring), which is
// logged.
//
// The AutoPipeliner is the client's, shared with its other users, and stops when the
// client is closed. Its options are the client's (redis.Options.AutoPipelineOptions),
// else go-redis's defaults: one ordered stream of batches of up to 200 commands.
func autoPipeliner(c redis.UniversalClient, logger *slog.Logger) *redis.AutoPipeliner {
	ap, err := c.AsyncAutoPipeline()
	if err != nil {
		logger.LogAttrs(context.Background(), slog.LevelWarn, "redis_autopipeline_unavailable", slog.String("error", err.Error()))
		return nil
	}
	return ap
}
