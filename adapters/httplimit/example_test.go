package httplimit_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
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

// Two requests a minute per client in front of a ServeMux: the third gets 429 with
// Retry-After. Rules match the path or the mux's pattern ("/api/v1/users/{id}"), and
// handlers read the decision with FromContext.
func Example() {
	cfg := config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, _ := httplimit.FromContext(r.Context())
		fmt.Fprintf(w, "user %s, rule %s", r.PathValue("id"), d.Rule)
	})
	h := httplimit.New(cfg)(mux)

	for range 3 {
		send(h, http.MethodGet, "/api/v1/users/42")
	}
	// Output:
	// 200 X-RateLimit-Remaining=1 user 42, rule default
	// 200 X-RateLimit-Remaining=0 user 42, rule default
	// 429 X-RateLimit-Remaining=0 Retry-After=30 rate_limit_exceeded
}

// Build the Limiter yourself to handle configuration errors, to reload it and to close
// it, and wrap one handler only.
func ExampleMiddleware() {
	lim, err := core.New(config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}})
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	compute := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "done") })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "up") })
	mux.Handle("POST /api/v1/compute", httplimit.Middleware(lim)(compute))

	send(mux, http.MethodPost, "/api/v1/compute")
	send(mux, http.MethodPost, "/api/v1/compute")
	send(mux, http.MethodGet, "/health") // not limited
	// A reload keeps the counters: 1 of the new 3 is used.
	if err := lim.Reload(config.Config{Default: config.Limits{Limit: 3, Window: time.Minute}}); err != nil {
		fmt.Println(err) // the old configuration stays in force
	}
	send(mux, http.MethodPost, "/api/v1/compute")
	// Output:
	// 200 X-RateLimit-Remaining=0 done
	// 429 X-RateLimit-Remaining=0 Retry-After=60 rate_limit_exceeded
	// 200 up
	// 200 X-RateLimit-Remaining=1 done
}
