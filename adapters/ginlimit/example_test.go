package ginlimit_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ratewarden/ratewarden/adapters/ginlimit"
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
	gin.SetMode(gin.ReleaseMode)
	cfg := config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}}

	r := gin.New()
	r.Use(gin.Recovery(), ginlimit.New(cfg))
	r.GET("/api/v1/users/:id", func(c *gin.Context) {
		rule := "" // no decision: a skipper let the request through
		if d, ok := ginlimit.FromContext(c); ok {
			rule = d.Rule()
		}
		c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "rule": rule})
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
	gin.SetMode(gin.ReleaseMode)
	lim, err := core.New(config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}})
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	r := gin.New()
	r.GET("/health", func(c *gin.Context) { c.String(http.StatusOK, "up") })
	r.POST("/api/v1/compute", ginlimit.Middleware(lim), func(c *gin.Context) { c.String(http.StatusOK, "done") })

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
