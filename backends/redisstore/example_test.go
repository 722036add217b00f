package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/redis/go-redis/v9"

	_ "github.com/ratewarden/ratewarden/backends/redisstore" // registers the "redis" backend
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// redisAddr is the address of the redis-server TestMain started for the examples; an
// application reads its addresses from the configuration (redis.addrs).
var redisAddr string

// Counters in Redis, shared by every instance of the application: importing redisstore
// registers the "redis" backend, and core.New builds the Store from the redis section.
// Redis's clock decides. Each client and rule has one key per window length
// (docs/redis.md describes the layout).
func Example() {
	cfg := config.Config{
		Backend:   config.BackendRedis,
		KeyPrefix: "example",
		Redis:     config.RedisConfig{Mode: "standalone", Addrs: []string{redisAddr}},
		Default:   config.Limits{Limit: 2, Window: time.Minute},
	}
	lim, err := core.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	req := httptest.NewRequest(http.MethodGet, "/api/v1/test", nil)
	req.RemoteAddr = "203.0.113.7:41000"
	for range 3 {
		var d core.Decision
		lim.Decide(core.Input{Request: req}, &d)
		fmt.Println(d.ClientID(), d.Outcome, d.Remaining())
	}

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	fmt.Println(rdb.Keys(ctx, "example:*").Val())

	// Reset, as an operator unblocking a customer would, deletes the client's keys.
	if err := lim.Reset(ctx, "ip:203.0.113.7", ""); err != nil {
		fmt.Println(err) // wraps rate.ErrUnavailable when Redis cannot be reached
	}
	fmt.Println(rdb.Keys(ctx, "example:*").Val())
	// Output:
	// ip:203.0.113.7 allowed 1
	// ip:203.0.113.7 allowed 0
	// ip:203.0.113.7 denied 0
	// [example:{ip:203.0.113.7:default}:60]
	// []
}
