package core_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// Decide three requests of one client under a limit of 2 per minute (a token bucket, the
// default algorithm, which refills one token every 30 seconds) and read each Decision. An application imports backends/memorystore (or redisstore) and passes no
// WithStore: core.New builds the backend the configuration names. The fixed clock makes
// Reset and RetryAfter reproducible.
func Example() {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	lim, err := core.New(
		config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}},
		core.WithStore(adaptertest.NewStore()), // an in-process store, for this example only
		core.WithClock(func() time.Time { return now }),
	)
	if err != nil {
		log.Fatal(err) // a *config.ValidationError naming every bad key
	}
	defer lim.Close()

	req := httptest.NewRequest(http.MethodGet, "/api/v1/users/42", nil)
	req.RemoteAddr = "203.0.113.7:41000"
	for range 3 {
		var d core.Decision
		lim.Decide(core.Input{Request: req}, &d)
		fmt.Println(d.Outcome, d.Proceed(), d.ClientID(), d.Rule(), d.Remaining(), "of", d.Limit(),
			"reset", d.Reset().Format(time.TimeOnly), "retry after", d.RetryAfter())
	}
	// Output:
	// allowed true ip:203.0.113.7 default 1 of 2 reset 12:00:30 retry after 0s
	// allowed true ip:203.0.113.7 default 0 of 2 reset 12:01:00 retry after 0s
	// denied false ip:203.0.113.7 default 0 of 2 reset 12:01:00 retry after 30s
}

// A minimal net/http middleware around Gate, which is what package httplimit and the gin,
// echo and chi adapters do: Gate sets the rate-limit headers before the handler runs, and
// a request that must not proceed is answered from its Decision.
func ExampleLimiter_Gate() {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	lim := core.MustNew(
		config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}},
		core.WithStore(adaptertest.NewStore()),
		core.WithClock(func() time.Time { return now }),
	)
	defer lim.Close()

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := core.FromContext(r.Context()) // the decision Gate made
		fmt.Fprintf(w, "rule %s", d.Rule())
	})
	limited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, d := lim.Gate(core.Input{Request: r}, w.Header())
		if !d.Proceed() {
			d.WriteResponse(w) // 429, or 503 when the backend is down and fail_mode is "closed"
			return
		}
		api.ServeHTTP(w, r)
	})

	for range 2 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/test", nil)
		req.RemoteAddr = "203.0.113.7:41000"
		limited.ServeHTTP(rec, req)
		fmt.Println(rec.Code, "X-RateLimit-Remaining:", rec.Header().Get("X-RateLimit-Remaining"),
			"Retry-After:", rec.Header().Get("Retry-After"), "|", rec.Header().Get("Content-Type"))
	}
	// Output:
	// 200 X-RateLimit-Remaining: 0 Retry-After:  | text/plain; charset=utf-8
	// 429 X-RateLimit-Remaining: 0 Retry-After: 60 | application/json
}
