package memorystore

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestRecordsOfSoonestKeysKeepTheEvictionOrder decides random keys of a full one-shard
// store, with policies that make keys fresh after a second to an hour, at times that step
// forward at random: after every decision every key has a current record in soon or an
// expiry of rest or later, and an insert that evicts the least recently used key found no
// key fresh (SPEC section 5).
func TestRecordsOfSoonestKeysKeepTheEvictionOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var policies []*rate.Policy
	for _, period := range []time.Duration{time.Second, 10 * time.Second, time.Minute, time.Hour} {
		p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: 2, Period: period, Name: "r"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		policies = append(policies, p)
	}
	s := newStore(config.MemoryConfig{MaxKeys: 256}, 1, WithLogger(slog.New(slog.DiscardHandler)))
	t.Cleanup(func() { _ = s.Close() })
	sh := &s.shards[0]
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	forgotFresh, evictedLive := 0, 0
	for step := range 20_000 {
		now = now.Add(time.Duration(rng.IntN(200)) * time.Millisecond)
		us := now.UnixMicro()
		key := "k" + strconv.Itoa(rng.IntN(600))
		tail := sh.lru.prev
		anyFresh, held := false, map[*entry]bool{} // each key held, and whether it is fresh
		for e := sh.lru.next; e != &sh.lru; e = e.next {
			held[e] = e.ExpiresAt() <= us
			anyFresh = anyFresh || held[e]
		}
		var res rate.Result
		req := rate.Request{Key: key, Policy: policies[rng.IntN(len(policies))], Cost: 1, Now: now}
		if err := s.Take(context.Background(), &req, &res); err != nil {
			t.Fatal(err)
		}
		for e := sh.lru.next; e != &sh.lru; e = e.next {
			delete(held, e)
		}
		for e, fresh := range held { // the keys forgotten
			switch {
			case fresh:
				forgotFresh++
			case anyFresh:
				t.Fatalf("step %d: live key %s was evicted while a key was fresh", step, e.key)
			case e != tail:
				t.Fatalf("step %d: live key %s was evicted, not the least recently used", step, e.key)
			default:
				evictedLive++
			}
		}
		current := map[*entry]bool{}
		for _, r := range sh.soon {
			if r.current() {
				current[r.e] = true
			}
		}
		for e := sh.lru.next; e != &sh.lru; e = e.next {
			if !current[e] && e.ExpiresAt() < sh.rest {
				t.Fatalf("step %d: %s expires at %d, before rest %d, without a current record", step, e.key, e.ExpiresAt(), sh.rest)
			}
			if e.ExpiresAt() < sh.nextExpiry.Load() {
				t.Fatalf("step %d: %s expires before nextExpiry", step, e.key)
			}
		}
	}
	if forgotFresh < 1000 || evictedLive < 1000 {
		t.Fatalf("%d fresh keys forgotten and %d live keys evicted: the steps test too little", forgotFresh, evictedLive)
	}
}
