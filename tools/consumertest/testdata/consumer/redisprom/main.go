// Command redisprom is a net/http app on the Redis backend (the server at $REDIS_ADDR)
// with Prometheus metrics; it prints the exceeded counter after its two requests.
package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/adapters/promlimit"
	_ "github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/core"

	"consumer/try"
)

func main() {
	cfg := try.Config
	cfg.Backend, cfg.FailMode = "redis", "closed" // an unreachable Redis answers 503, not 200
	cfg.Redis.Addrs = []string{os.Getenv("REDIS_ADDR")}
	reg := prometheus.NewRegistry()
	obs, err := promlimit.New(reg, cfg.Metrics)
	try.Must(err)
	lim, err := core.New(cfg, core.WithObserver(obs))
	try.Must(err)
	defer lim.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", try.Hello)
	try.Twice("redis+prometheus", httplimit.Middleware(lim)(mux), func() {
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for line := range strings.Lines(rec.Body.String()) {
			if strings.HasPrefix(line, "ratelimit_exceeded_total") {
				fmt.Print("redis+prometheus: /metrics ", line)
			}
		}
	})
}
