package redisstore

import (
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/redis/go-redis/v9"
)

// NewClient exposes the client New builds, so that fault tests can add hooks to it.
func NewClient(r config.RedisConfig) (redis.UniversalClient, error) { return newClient(r) }

// BreakerState is the state of s's circuit breaker: "closed", "half-open" or "open".
func BreakerState(s *Store) string { return s.breaker.cb.State().String() }

// QueuedDecisions is the number of decisions of s waiting for a script call (batch.go).
func QueuedDecisions(s *Store) int {
	n := 0
	for _, b := range s.batchers {
		b.mu.Lock()
		n += len(b.queue)
		b.mu.Unlock()
	}
	return n
}

// MaxBatch exposes maxBatch.
const MaxBatch = maxBatch
