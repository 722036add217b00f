package core

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// BackendFactory builds the [rate.Store] a configuration names in `backend`.
type BackendFactory func(cfg config.Config, env BackendEnv) (rate.Store, error)

// BackendEnv is what a [Limiter] lends the store it builds.
type BackendEnv struct {
	Logger   *slog.Logger
	Observer Observer // may be nil
	Now      func() time.Time
}

// Reloader is implemented by stores that hold state derived from the configuration, such
// as the Redis store's cache of denied keys; [Limiter.Reload] calls Reloaded after a swap.
type Reloader interface {
	Reloaded()
}

var (
	backendsMu sync.RWMutex
	backends   = map[config.Backend]BackendFactory{}
)

// RegisterBackend makes the implementation of a configurable backend available to [New].
// The repository's backend packages call it from init: importing backends/memorystore
// registers [config.BackendMemory], backends/redisstore [config.BackendRedis]. Those are
// the names the `backend` key accepts, so name must be one of them: a store of your own
// is passed to [New] with [WithStore] instead. It panics on any other name and when name
// is registered twice, like database/sql.Register.
func RegisterBackend(name config.Backend, f BackendFactory) {
	if err := new(config.Backend).UnmarshalText([]byte(name)); err != nil || name == "" {
		panic(fmt.Sprintf("ratewarden: RegisterBackend(%q): not a backend the configuration can name; pass the store with WithStore", name))
	}
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[name]; dup {
		panic("ratewarden: backend registered twice: " + string(name))
	}
	backends[name] = f
}

func newBackend(cfg config.Config, env BackendEnv) (rate.Store, error) {
	backendsMu.RLock()
	f := backends[cfg.Backend]
	backendsMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("ratewarden: backend %q is not linked in: import github.com/ratewarden/ratewarden/backends/%sstore", cfg.Backend, cfg.Backend)
	}
	return f(cfg, env)
}
