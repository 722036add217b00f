package memorystore_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// Importing memorystore registers the "memory" backend, the default: core.New builds the
// store from the configuration's memory section. Build it with New instead to share one
// store between Limiters or to watch its size; the Limiter's clock decides.
func ExampleNew() {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cfg := config.Config{
		Default: config.Limits{Limit: 2, Window: time.Minute},
		Memory:  config.MemoryConfig{MaxKeys: 100_000},
	}
	store := memorystore.New(cfg.Memory)
	lim, err := core.New(cfg, core.WithStore(store), core.WithClock(func() time.Time { return now }))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // a store passed with WithStore stays the caller's to close
	defer lim.Close()

	for _, client := range []string{"203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.4"} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/test", nil)
		req.RemoteAddr = client + ":41000"
		var d core.Decision
		lim.Decide(core.Input{Request: req}, &d)
		fmt.Println(d.ClientID(), d.Outcome, d.Remaining())
	}
	fmt.Println("keys:", store.Len())

	// Once a key's bucket is full again its state is a fresh key's: the sweeper (every
	// memory.sweep_interval) forgets it.
	fmt.Println("swept after a minute:", store.Sweep(now.Add(time.Minute)), "keys:", store.Len())
	// Output:
	// ip:203.0.113.7 allowed 1
	// ip:203.0.113.7 allowed 0
	// ip:203.0.113.7 denied 0
	// ip:198.51.100.4 allowed 1
	// keys: 2
	// swept after a minute: 2 keys: 0
}
