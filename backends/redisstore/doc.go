// Package redisstore is the Redis backend of ratewarden: counters shared by every
// instance of an application, in Redis standalone, Sentinel or Cluster. Importing it
// registers the "redis" backend with core, built from the configuration's redis section,
// key_prefix and fail_mode.
//
//	import _ "github.com/ratewarden/ratewarden/backends/redisstore"
//
//	cfg.Backend = config.BackendRedis
//	cfg.Redis = config.RedisConfig{Addrs: []string{"redis:6379"}} // or mode "sentinel", "cluster"
//	lim, err := core.New(cfg)
//
// Each decision is one call of Lua code — EVALSHA of the algorithm's script, with EVAL
// when the server lost it; or, with WithFunctions on Redis 7 and later, an FCALL of a
// function of the Redis Function library the Store loads (FUNCTION LOAD) when the server
// lacks it (see docs/redis.md on what is loaded, ACLs and the fallback): one round trip that checks
// every window of the rule and the penalty, and consumes in every window only when all
// allow (a consume of count_statuses counts beyond full, see rate.OpConsume), deciding
// with the Redis server's clock.
// The scripts mirror core's arithmetic exactly, so a Store passes the same conformance
// suite (core/storetest) as the memory backend and decides the same. Every key has a TTL
// no longer than its state needs.
//
// A Store is safe for concurrent use. Each decision runs under redis.timeout, retries
// included; a circuit breaker fails fast after redis.circuit_breaker.failure_threshold
// consecutive failures and probes again after open_timeout. When Redis cannot decide,
// fail_mode "open" and "closed" return an *[Error] (the core admits or answers 503),
// and "local" decides in-process with a memory store until Redis is back. With
// redis.local_cache, a key Redis denied is answered locally, without a round trip, until
// it may pass again.
//
// docs/redis.md covers setup, key layout, the scripts, failure handling and measured
// numbers.
package redisstore
