package chilimit_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/ratewarden/ratewarden/adapters/chilimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// send sends a request from 203.0.113.7 and prints the status, the rate-limit headers
// it carries and the body (for a 429, its "error" member).
func send(h http.Handler, method, path string) {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "203.0.113.7:41000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code)
	for _, name := range []string{"X-RateLimit-Remaining", "Retry-After"} {
		if v := rec.Header().Get(name); v != "" {
			fmt.Printf(" %s=%s", name, v)
		}
	}
	body := strings.TrimSpace(rec.Body.String())
	if rec.Code == http.StatusTooManyRequests {
		var denied struct{ Error string }
		_ = json.Unmarshal(rec.Body.Bytes(), &denied)
		body = denied.Error
	}
	fmt.Println("", body)
}

// Two requests a minute per client: the third gets 429 with Retry-After. Handlers read
// the decision with FromContext.
func Example() {
	cfg := config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}}

	r := chi.NewRouter()
	r.Use(middleware.Recoverer, chilimit.New(cfg))
	r.Get("/api/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		rule := "" // no decision: a skipper let the request through
		if d, ok := chilimit.FromContext(r.Context()); ok {
			rule = d.Rule()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": chi.URLParam(r, "id"), "rule": rule})
	})

	for range 3 {
		send(r, http.MethodGet, "/api/v1/users/42")
	}
	// Output:
	// 200 X-RateLimit-Remaining=1 {"id":"42","rule":"default"}
	// 200 X-RateLimit-Remaining=0 {"id":"42","rule":"default"}
	// 429 X-RateLimit-Remaining=0 Retry-After=30 rate_limit_exceeded
}

// Build the Limiter yourself to handle configuration errors, to reload it and to close
// it, and put its middleware on one route only.
func ExampleMiddleware() {
	lim, err := core.New(config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}})
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	r := chi.NewRouter()
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("up")) })
	r.With(chilimit.Middleware(lim)).Post("/api/v1/compute", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("done")) })

	send(r, http.MethodPost, "/api/v1/compute")
	send(r, http.MethodPost, "/api/v1/compute")
	send(r, http.MethodGet, "/health") // not limited
	// A reload keeps the counters: 1 of the new 3 is used.
	if err := lim.Reload(config.Config{Default: config.Limits{Limit: 3, Window: time.Minute}}); err != nil {
		fmt.Println(err) // the old configuration stays in force
	}
	send(r, http.MethodPost, "/api/v1/compute")
	// Output:
	// 200 X-RateLimit-Remaining=0 done
	// 429 X-RateLimit-Remaining=0 Retry-After=60 rate_limit_exceeded
	// 200 up
	// 200 X-RateLimit-Remaining=1 done
}
