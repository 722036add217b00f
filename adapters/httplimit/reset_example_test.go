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

// Three login attempts a minute per username, and a successful login clears that
// username's counter with Limiter.Reset, so that a user who mistyped twice does not start
// the next session one attempt from a lockout. The handler counts attempts per username
// with Allow (the "login:" prefix keeps usernames apart from API-key user ids, which also
// count under scope "key"), and resets only that counter: never a counter other clients
// share — the address's, or a global one — or one successful login of an attacker's own
// account would clear the limit on its guesses at everyone else's.
func ExampleMiddleware_resetAfterLogin() {
	lim, err := core.New(config.Config{Endpoints: []config.Endpoint{
		{Name: "login", Pattern: "/login", Methods: []string{"POST"}, // per address: never reset
			Limits: config.Limits{Limit: 20, Window: time.Minute}},
		{Name: "login-per-user", Pattern: "/login-per-user", // decided by the handler only
			Limits: config.Limits{Limit: 3, Window: time.Minute}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := "login:" + r.PostFormValue("username")
		if !httplimit.Allow(w, r, "login-per-user", user) {
			return // 429 answered
		}
		if r.PostFormValue("password") != "letmein" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err := lim.Reset(r.Context(), "key:"+user, "login-per-user"); err != nil {
			log.Printf("login counter not cleared: %v", err) // the login still succeeds
		}
		w.WriteHeader(http.StatusOK)
	})
	h := httplimit.Middleware(lim)(mux)

	login := func(username, password string) {
		form := url.Values{"username": {username}, "password": {password}}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "203.0.113.7:41000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(username, rec.Code, "remaining", rec.Header().Get("X-RateLimit-Remaining"))
	}
	login("alice", "guess")
	login("alice", "hunter2")
	login("alice", "letmein") // its headers were set before the handler reset the counter
	login("alice", "typo")    // a fresh counter: 2 attempts left after this one
	login("bob", "guess")     // bob's counter is his own
	// Output:
	// alice 401 remaining 2
	// alice 401 remaining 1
	// alice 200 remaining 0
	// alice 401 remaining 2
	// bob 401 remaining 2
}
