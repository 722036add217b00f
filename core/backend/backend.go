// Package backend is what a store implementation needs from ratewarden beyond the
// [rate.Store] contract: the registry the `backend` configuration key looks names up in
// ([Register]), what a [core.Limiter] lends the store it builds ([Env]), the observer
// hooks a store reports to, and logs throttled for storms of errors ([ErrorLog]). The
// repository's backends/memorystore and backends/redisstore use it (and the admin
// endpoints of adapters/httplimit its [ThrottledLog]); applications do not.
package backend

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// Factory builds the [rate.Store] a configuration names in `backend`.
type Factory func(cfg config.Config, env Env) (rate.Store, error)

// Env is what a Limiter lends the store it builds.
type Env struct {
	Logger   *slog.Logger
	Observer Observer // may be nil
	Now      func() time.Time
}

// Observer is told about every call to a remote backend; metrics exporters implement it
// (adapters/promlimit), as part of core.Observer. Its method is called on the request
// path and must be fast and safe for concurrent use.
type Observer interface {
	// ObserveBackend is called after each backend operation with its duration and, for a
	// failure, its kind; errKind is "" on success.
	ObserveBackend(operation string, took time.Duration, errKind rate.ErrorKind)
}

// MemoryObserver is an optional extension of [Observer] for the in-process memory store,
// which calls it when the Observer of its [Env] implements it (adapters/promlimit does).
// Its methods must be safe for concurrent use.
type MemoryObserver interface {
	// WatchKeys gives the observer a function that counts the keys the store holds, to be
	// read when metrics are collected. The store calls it once, when it is built.
	WatchKeys(count func() int)
	// ObserveEvictions is called when the store forgot n keys: reason "expired" for keys
	// whose state had become a fresh key's (the sweeper, or room made in a full store),
	// "lru" for live keys evicted, least recently used first, from a full store.
	ObserveEvictions(reason string, n int)
}

// Reloader is implemented by stores that hold state derived from the configuration, such
// as the Redis store's cache of denied keys; Limiter.Reload calls Reloaded after a swap.
type Reloader interface {
	Reloaded()
}

var (
	registryMu sync.RWMutex
	registry   = map[config.Backend]Factory{}
)

// Register makes the implementation of a configurable backend available to core.New.
// The repository's backend packages call it from init: importing backends/memorystore
// registers [config.BackendMemory], backends/redisstore [config.BackendRedis]. Those are
// the names the `backend` key accepts, so name must be one of them: a store of your own
// is passed to core.New with core.WithStore instead. It panics on any other name, on a nil
// factory and when name is registered twice, like database/sql.Register.
func Register(name config.Backend, f Factory) {
	if err := new(config.Backend).UnmarshalText([]byte(name)); err != nil || name == "" {
		panic(fmt.Sprintf("ratewarden: backend.Register(%q): not a backend the configuration can name; pass the store with core.WithStore", name))
	}
	if f == nil {
		panic("ratewarden: backend.Register: nil factory for " + string(name))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("ratewarden: backend registered twice: " + string(name))
	}
	registry[name] = f
}

// New builds the store cfg.Backend names with its registered [Factory]; it fails when no
// package registered that name.
func New(cfg config.Config, env Env) (rate.Store, error) {
	registryMu.RLock()
	f := registry[cfg.Backend]
	registryMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("ratewarden: backend %q is not linked in: import github.com/ratewarden/ratewarden/backends/%sstore", cfg.Backend, cfg.Backend)
	}
	return f(cfg, env)
}
