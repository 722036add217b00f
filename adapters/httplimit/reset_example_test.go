package httplimit_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// Three login attempts a minute per client, and a successful login clears the client's
// login counter with Limiter.Reset, so that a user who mistyped twice does not start the
// next session one attempt from a lockout. The client is the one the middleware's
// decision counted (Decision.ClientID: "ip:203.0.113.7" here), the rule its rule.
func ExampleMiddleware_resetAfterLogin() {
	lim, err := core.New(config.Config{Endpoints: []config.Endpoint{{
		Name: "login", Pattern: "/login", Methods: []string{"POST"},
		Limits: config.Limits{Limit: 3, Window: time.Minute},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("password") != "letmein" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if d, ok := httplimit.FromContext(r.Context()); ok {
			if err := lim.Reset(r.Context(), d.ClientID(), d.Rule); err != nil {
				log.Printf("login counter not cleared: %v", err) // the login still succeeds
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	h := httplimit.Middleware(lim)(mux)

	login := func(password string) {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "203.0.113.7:41000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, "remaining", rec.Header().Get("X-RateLimit-Remaining"))
	}
	login("guess")
	login("hunter2")
	login("letmein") // its headers were set before the handler reset the counter
	login("typo")    // a fresh counter: 2 attempts left after this one
	// Output:
	// 401 remaining 2
	// 401 remaining 1
	// 200 remaining 0
	// 401 remaining 2
}
