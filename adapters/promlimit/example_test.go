package promlimit_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/adapters/promlimit"
	_ "github.com/ratewarden/ratewarden/backends/memorystore" // the "memory" backend
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// Wire the observer into the limiter and serve the registry on /metrics, outside the
// rate-limited routes.
func ExampleNew() {
	cfg := config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}}

	reg := prometheus.NewRegistry()
	obs, err := promlimit.New(reg, cfg.Metrics)
	if err != nil {
		panic(err)
	}
	lim, err := core.New(cfg, core.WithObserver(obs), core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer lim.Close()

	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux := http.NewServeMux()
	mux.Handle("/api/", httplimit.Middleware(lim)(api))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	for range 3 {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/test", nil))
		fmt.Println(rec.Code)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "ratelimit_requests_total") || strings.HasPrefix(line, "ratelimit_exceeded_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// 200
	// 200
	// 429
	// ratelimit_exceeded_total{rule="default",tier="anonymous"} 1
	// ratelimit_requests_total{decision="allowed",rule="default",tier="anonymous"} 2
	// ratelimit_requests_total{decision="denied",rule="default",tier="anonymous"} 1
	// ratelimit_requests_total{decision="error",rule="default",tier="anonymous"} 0
	// ratelimit_requests_total{decision="exempt",rule="default",tier="anonymous"} 0
	// ratelimit_requests_total{decision="shadow_denied",rule="default",tier="anonymous"} 0
}
