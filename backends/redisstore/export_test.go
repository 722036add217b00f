package redisstore

import (
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
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

// CallsInFlight is the number of script calls of s on their way to Redis (batch.go).
func CallsInFlight(s *Store) int {
	n := 0
	for _, b := range s.batchers {
		b.mu.Lock()
		n += b.inFlight
		b.mu.Unlock()
	}
	return n
}

// MaxBatch exposes maxBatch.
const MaxBatch = maxBatch

// Library is the name of the Redis Function library of this version's decision code.
func Library() string { return library.name }

// LibraryAs returns the source of this version's library under another name, as another
// version's library would be.
func LibraryAs(name string) string { return librarySource(name, algorithmCodes()) }

// RecheckFunctions exposes recheckFunctions.
const RecheckFunctions = recheckFunctions

// NodeBreakerState is the state of the breaker a Cluster store keeps for the master at
// addr ("" when it has none).
func NodeBreakerState(s *Store, addr string) string {
	s.nodes.mu.Lock()
	defer s.nodes.mu.Unlock()
	b := s.nodes.byAddr[addr]
	if b == nil {
		return ""
	}
	return b.cb.State().String()
}

// Hung reports whether s, a Cluster store, sends every decision alone because a master
// hangs (nodeBreakers.hung).
func Hung(s *Store) bool { return s.nodes.hung() }

// PackState returns a string state as the scripts write it (lua/prelude.lua).
func PackState(alg rate.Algorithm, nums ...uint64) string { return packState(alg, nums...) }

// UnpackState returns the tag and the numbers of a string state.
func UnpackState(s string) (tag byte, nums []uint64, ok bool) { return unpackState(s) }
