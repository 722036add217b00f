package httplimit_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// Two requests a minute per client in front of a ServeMux: the third gets 429 with
// Retry-After. Rules match the path or the mux's pattern ("/api/v1/users/{id}"), and
// handlers read the decision with FromContext.
func Example() {
	cfg := config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		rule := "" // no decision: a skipper let the request through
		if d, ok := httplimit.FromContext(r.Context()); ok {
			rule = d.Rule()
		}
		fmt.Fprintf(w, "user %s, rule %s", r.PathValue("id"), rule)
	})
	h := httplimit.New(cfg)(mux)

	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/users/42", nil)
		req.RemoteAddr = "203.0.113.7:41000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Printf("%d remaining=%s retry-after=%q %s\n", rec.Code, rec.Header().Get("X-RateLimit-Remaining"),
			rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"))
	}
	// Output:
	// 200 remaining=1 retry-after="" text/plain; charset=utf-8
	// 200 remaining=0 retry-after="" text/plain; charset=utf-8
	// 429 remaining=0 retry-after="30" application/json
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

	post := func() int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/compute", nil))
		return rec.Code
	}
	fmt.Println(post(), post())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	fmt.Println(rec.Code, rec.Header().Get("X-RateLimit-Limit") == "") // not limited: no headers

	// A reload keeps the counters: 1 of the new 3 is used.
	if err := lim.Reload(config.Config{Default: config.Limits{Limit: 3, Window: time.Minute}}); err != nil {
		fmt.Println(err) // the old configuration stays in force
	}
	fmt.Println(post(), post(), post())
	// Output:
	// 200 429
	// 200 true
	// 200 200 429
}
