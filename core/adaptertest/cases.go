package adaptertest

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// testCase is one configuration and what a server built from it must do.
type testCase struct {
	name    string
	config  config.Config
	options []core.Option // for core.New, after the suite's store, clock and logger
	run     func(t *testing.T, s *server)
}

// Policies of the cases' rules, as RateLimit-Policy writes them.
const (
	defaultPolicy = `"default";q=100;w=60`
	computePolicy = `"compute";q=10;w=60,"compute-3600";q=100;w=3600`
)

// perMinute is a rule of limit requests a minute.
func perMinute(limit int64) config.Limits {
	return config.Limits{Limit: limit, Window: time.Minute}
}

// compute is an endpoint rule for /api/v1/compute, every method, 10 requests a minute.
func compute() config.Endpoint {
	return config.Endpoint{Name: "compute", Pattern: "/api/v1/compute", Limits: perMinute(10)}
}

// jwtConfig enables HS256 tokens signed with jwtSecret.
func jwtConfig(cfg config.Config) config.Config {
	cfg.JWT.Enabled = true
	cfg.JWT.Secret = jwtSecret
	return cfg
}

// ceilDiv is a/b rounded up.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func cases() []testCase {
	cs := []testCase{
		{
			name: "count_statuses: only responses with a listed status consume, the framework's error answers included",
			config: config.Config{Endpoints: []config.Endpoint{
				{Name: "failures", Pattern: "/api/v1/error", Limits: perMinute(2), CountStatuses: []int{http.StatusInternalServerError}},
				{Name: "successes", Pattern: "/api/v1/test", Limits: perMinute(2), CountStatuses: []int{http.StatusInternalServerError}},
			}},
			run: func(t *testing.T, s *server) {
				for range 5 {
					rec := s.allow(t, 1, request{})
					assert.Equal(t, "2", rec.Header().Get("X-RateLimit-Remaining"), "a 200 never counts")
				}
				for i, left := range []string{"2", "1"} {
					rec := s.do(request{path: "/api/v1/error"})
					require.Equal(t, http.StatusInternalServerError, rec.Code, "failure %d", i+1)
					assert.Equal(t, left, rec.Header().Get("X-RateLimit-Remaining"), "the state at the check, before its own cost")
				}
				rec := s.deny(t, request{path: "/api/v1/error"})
				assert.Equal(t, "30", rec.Header().Get("Retry-After"))
			},
		},
		{
			// net/http cancels a request's context when its client closes or half-closes
			// the connection, and a store that asks a server gives up on a canceled
			// context: were that context the decision's, a client could fail its own
			// decisions and let fail_mode admit them uncounted, or keep a failed login
			// from counting. The store here fails on a done context, as Redis's does.
			name: "a client that hangs up is still decided and counted: by the middleware, by its handler's Allow, and after a listed status",
			config: config.Config{
				Default: perMinute(2),
				Endpoints: []config.Endpoint{
					{Name: "failures", Pattern: "/api/v1/error", Limits: perMinute(2), CountStatuses: []int{http.StatusInternalServerError}},
					{Name: NamedRule, Pattern: "/decided/from/the/handler", Limits: perMinute(1)},
				},
			},
			run: func(t *testing.T, s *server) {
				for _, left := range []string{"1", "0"} {
					rec := s.allow(t, 1, request{hungUp: true})
					assert.Equal(t, left, rec.Header().Get("X-RateLimit-Remaining"))
					assert.Equal(t, "allowed", reply(t, rec).Outcome)
				}
				s.deny(t, request{hungUp: true})

				for i := range 2 {
					rec := s.do(request{path: "/api/v1/error", hungUp: true})
					require.Equal(t, http.StatusInternalServerError, rec.Code, "failure %d", i+1)
				}
				s.deny(t, request{path: "/api/v1/error", hungUp: true}) // both failures counted

				alice := request{method: http.MethodPost, path: "/api/v1/signin?user=alice", remote: "198.51.100.9:1", hungUp: true}
				rec := s.allow(t, 1, alice)
				assert.Equal(t, `"signin";q=1;w=60`, rec.Header().Get("RateLimit-Policy"))
				rec = s.deny(t, alice)
				assert.Contains(t, rec.Body.String(), `"policy":"signin"`)
			},
		},
		{
			name: "a handler decides again under a named rule with a key it computed",
			config: config.Config{Endpoints: []config.Endpoint{
				{Name: NamedRule, Pattern: "/decided/from/the/handler", Limits: perMinute(3)},
			}},
			run: func(t *testing.T, s *server) {
				alice := request{method: http.MethodPost, path: "/api/v1/signin?user=alice"}
				for i := int64(1); i <= 3; i++ {
					rec := s.allow(t, 1, alice)
					assert.Equal(t, `"signin";q=3;w=60`, rec.Header().Get("RateLimit-Policy"), "the handler's decision sets the headers")
					assert.Equal(t, fmt.Sprint(3-i), rec.Header().Get("X-RateLimit-Remaining"))
					assert.Equal(t, "ok", reply(t, rec).Status)
				}
				rec := s.deny(t, alice)
				assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
				assert.Equal(t, "20", rec.Header().Get("Retry-After"), "3 a minute: one comes back every 20 s")
				assert.Contains(t, rec.Body.String(), `"policy":"signin"`, "the 429 body is the handler's rule's")

				bob := request{method: http.MethodPost, path: "/api/v1/signin?user=bob"}
				s.allow(t, 3, bob) // another key, another counter; same client address
				// The middleware counted all seven requests under the address's default rule,
				// and counts this eighth one.
				assert.Equal(t, "92", s.do(request{}).Header().Get("X-RateLimit-Remaining"))
			},
		},
		{
			name: "a request a skipper lets through is not decided by the middleware, but its handler's Allow decides",
			config: config.Config{Endpoints: []config.Endpoint{
				{Name: NamedRule, Pattern: "/decided/from/the/handler", Limits: perMinute(2)},
			}},
			run: func(t *testing.T, s *server) {
				for range 3 {
					rec := s.allow(t, 1, request{skip: true})
					noHeaders(t, rec)
					assert.Equal(t, Reply{Status: "ok"}, reply(t, rec), "FromContext reports no decision")
				}
				alice := request{method: http.MethodPost, path: "/api/v1/signin?user=alice", skip: true}
				for i := int64(1); i <= 2; i++ {
					rec := s.allow(t, 1, alice)
					assert.Equal(t, `"signin";q=2;w=60`, rec.Header().Get("RateLimit-Policy"), "the handler's decision sets the headers")
					assert.Equal(t, fmt.Sprint(2-i), rec.Header().Get("X-RateLimit-Remaining"))
				}
				rec := s.deny(t, alice)
				assert.Contains(t, rec.Body.String(), `"policy":"signin"`)
				assert.Equal(t, "99", s.do(request{}).Header().Get("X-RateLimit-Remaining"), "skipped requests did not count under default")
			},
		},
		{
			name: "a burst of 100 is admitted, the 101st gets 429 with Retry-After and the JSON body",
			run: func(t *testing.T, s *server) {
				for i := int64(1); i <= 100; i++ {
					rec := s.allow(t, 1, request{})
					// Token bucket, 100 per 60 s: each token takes 0.6 s to come back.
					want{limit: 100, remaining: 100 - i, resetIn: ceilDiv(6*i, 10), name: "default", policy: defaultPolicy}.check(t, s, rec)
				}
				rec := s.deny(t, request{})
				want{limit: 100, remaining: 0, resetIn: 60, name: "default", policy: defaultPolicy, retryAfter: 1}.check(t, s, rec)
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
				assert.JSONEq(t, fmt.Sprintf(`{
					"error": "rate_limit_exceeded",
					"message": "Rate limit exceeded: 100 requests per 60 seconds. Retry in 1 second.",
					"limit": 100, "remaining": 0, "reset": %[1]d, "retry_after": 1, "window": 60,
					"scope": "ip", "policy": "default",
					"limits_exceeded": [{"policy": "default", "limit": 100, "window": 60, "remaining": 0, "reset": %[1]d, "retry_after": 1}]
				}`, unix(time.Minute)), rec.Body.String())

				s.clock.Advance(time.Second) // one token is back
				r := reply(t, s.allow(t, 1, request{}))
				assert.Equal(t, Reply{Status: "ok", Decided: true, Outcome: "allowed", Rule: "default", Client: "ip:203.0.113.7", Tier: "anonymous"}, r)
				s.deny(t, request{})
			},
		},
		{
			name: "every response of a limited request carries the headers: 200, 404, 500, recovered panic, 429",
			run: func(t *testing.T, s *server) {
				h := want{limit: 100, name: "default", policy: defaultPolicy}
				statuses := []struct {
					path   string
					status int
				}{
					{"/api/v1/test", http.StatusOK},
					{"/api/v1/error", http.StatusInternalServerError},
					{"/api/v1/panic", http.StatusInternalServerError},
					{"/api/v1/no-such-route", http.StatusNotFound},
					{"/health", http.StatusOK},
				}
				for i, st := range statuses {
					rec := s.do(request{path: st.path})
					require.Equalf(t, st.status, rec.Code, "%s: body %s", st.path, rec.Body)
					h.remaining, h.resetIn = int64(99-i), ceilDiv(6*int64(i+1), 10)
					h.check(t, s, rec)
				}
				s.allow(t, 100-len(statuses), request{path: "/health"})
				for _, path := range []string{"/api/v1/error", "/api/v1/panic", "/api/v1/no-such-route", "/health"} {
					rec := s.deny(t, request{path: path}) // the handler does not run
					want{limit: 100, remaining: 0, resetIn: 60, name: "default", policy: defaultPolicy, retryAfter: 1}.check(t, s, rec)
					assert.Contains(t, rec.Body.String(), `"error":"rate_limit_exceeded"`)
				}
			},
		},
		{
			name:   "a rule with two windows names both in RateLimit-Policy and the binding one in the others",
			config: config.Config{Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Windows: []config.WindowConfig{{Limit: 10, Window: time.Minute}, {Limit: 100, Window: time.Hour}}}}}},
			run: func(t *testing.T, s *server) {
				post := request{method: http.MethodPost, path: "/api/v1/compute"}
				for i := int64(1); i <= 10; i++ {
					rec := s.allow(t, 1, post)
					want{limit: 10, remaining: 10 - i, resetIn: 6 * i, name: "compute", policy: computePolicy}.check(t, s, rec)
				}
				assert.Equal(t, "compute", reply(t, s.do(request{path: "/api/v1/compute", remote: "203.0.113.8:1"})).Rule)
				rec := s.deny(t, post)
				want{limit: 10, remaining: 0, resetIn: 60, name: "compute", policy: computePolicy, retryAfter: 6}.check(t, s, rec)
				assert.JSONEq(t, fmt.Sprintf(`{
					"error": "rate_limit_exceeded",
					"message": "Rate limit exceeded: 10 requests per 60 seconds. Retry in 6 seconds.",
					"limit": 10, "remaining": 0, "reset": %[1]d, "retry_after": 6, "window": 60,
					"scope": "ip", "policy": "compute",
					"limits_exceeded": [{"policy": "compute", "limit": 10, "window": 60, "remaining": 0, "reset": %[1]d, "retry_after": 6}]
				}`, unix(time.Minute)), rec.Body.String())
			},
		},
		{
			name: "the hour window of a rule binds once it has fewer units left",
			config: config.Config{Algorithm: "fixed_window", Endpoints: []config.Endpoint{{
				Name: "compute", Pattern: "/api/v1/compute",
				Limits: config.Limits{Windows: []config.WindowConfig{{Limit: 10, Window: time.Minute}, {Limit: 100, Window: time.Hour}}},
			}}},
			run: func(t *testing.T, s *server) {
				post := request{method: http.MethodPost, path: "/api/v1/compute"}
				for m := 0; m < 10; m++ {
					s.allow(t, 10, post)
					s.deny(t, post)
					s.clock.Advance(time.Minute)
				}
				// Minute 10: the minute window would admit, the hour window (100 used) does not.
				rec := s.deny(t, post)
				want{limit: 100, remaining: 0, resetIn: 3000, name: "compute-3600", policy: computePolicy, retryAfter: 3000}.check(t, s, rec)
				assert.JSONEq(t, fmt.Sprintf(`{
					"error": "rate_limit_exceeded",
					"message": "Rate limit exceeded: 100 requests per 3600 seconds. Retry in 3000 seconds.",
					"limit": 100, "remaining": 0, "reset": %[1]d, "retry_after": 3000, "window": 3600,
					"scope": "ip", "policy": "compute-3600",
					"limits_exceeded": [{"policy": "compute-3600", "limit": 100, "window": 3600, "remaining": 0, "reset": %[1]d, "retry_after": 3000}]
				}`, unix(time.Hour)), rec.Body.String())
			},
		},
		{
			name: "problem format: application/problem+json with the RFC 9457 members",
			config: config.Config{
				Default:          perMinute(2),
				Response:         config.ResponseConfig{Format: config.FormatProblem},
				DocumentationURL: "https://example.com/docs/rate-limits",
			},
			run: func(t *testing.T, s *server) {
				s.allow(t, 2, request{})
				rec := s.deny(t, request{})
				assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
				want{limit: 2, remaining: 0, resetIn: 60, name: "default", policy: `"default";q=2;w=60`, retryAfter: 30}.check(t, s, rec)
				msg := "Rate limit exceeded: 2 requests per 60 seconds. Retry in 30 seconds."
				assert.JSONEq(t, fmt.Sprintf(`{
					"type": "https://example.com/docs/rate-limits", "title": "Too Many Requests", "status": 429, "detail": %[2]q,
					"error": "rate_limit_exceeded", "message": %[2]q,
					"limit": 2, "remaining": 0, "reset": %[1]d, "retry_after": 30, "window": 60,
					"scope": "ip", "policy": "default",
					"limits_exceeded": [{"policy": "default", "limit": 2, "window": 60, "remaining": 0, "reset": %[1]d, "retry_after": 30}],
					"documentation_url": "https://example.com/docs/rate-limits"
				}`, unix(time.Minute), msg), rec.Body.String())
			},
		},
		{
			name:   "an endpoint rule and the default rule keep separate counters",
			config: config.Config{Endpoints: []config.Endpoint{compute()}},
			run: func(t *testing.T, s *server) {
				// Client A spends its compute budget: its default counter is untouched.
				a := request{method: http.MethodPost, path: "/api/v1/compute"}
				s.allow(t, 10, a)
				s.deny(t, a)
				s.deny(t, request{path: "/api/v1/compute"}) // GET too: the rule has no methods
				rec := s.allow(t, 1, request{})
				want{limit: 100, remaining: 99, resetIn: 1, name: "default", policy: defaultPolicy}.check(t, s, rec)
				// Every path under the default rule shares one counter.
				s.allow(t, 49, request{path: "/health"})
				s.allow(t, 25, request{path: "/api/v1/users/1"})
				s.allow(t, 25, request{path: "/api/v1/test"})
				s.deny(t, request{path: "/health"})

				// Client B spends its default budget: its compute counter is untouched.
				b := request{remote: "203.0.113.8:41000"}
				s.allow(t, 100, b)
				s.deny(t, b)
				b.method, b.path = http.MethodPost, "/api/v1/compute"
				rec = s.allow(t, 1, b)
				want{limit: 10, remaining: 9, resetIn: 6, name: "compute", policy: `"compute";q=10;w=60`}.check(t, s, rec)
			},
		},
		{
			name:   "an endpoint rule with methods applies to those methods only",
			config: config.Config{Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/api/v1/compute", Methods: []string{"POST"}, Limits: perMinute(10)}}},
			run: func(t *testing.T, s *server) {
				rec := s.allow(t, 1, request{method: http.MethodPost, path: "/api/v1/compute"})
				assert.Equal(t, `"compute";q=10;w=60`, rec.Header().Get("RateLimit-Policy"))
				rec = s.allow(t, 1, request{path: "/api/v1/compute"})
				want{limit: 100, remaining: 99, resetIn: 1, name: "default", policy: defaultPolicy}.check(t, s, rec)
				assert.Equal(t, "default", reply(t, rec).Rule)
			},
		},
		{
			name:   "HEAD matches a rule that lists GET and shares its counter",
			config: config.Config{Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/api/v1/compute", Methods: []string{"GET"}, Limits: perMinute(2)}}},
			run: func(t *testing.T, s *server) {
				head := request{method: http.MethodHead, path: "/api/v1/compute"}
				policy := `"compute";q=2;w=60`
				for i := int64(1); i <= 2; i++ {
					// Routers answer HEAD with the GET handler or with 404/405; either way the
					// request is decided under the GET rule.
					rec := s.do(head)
					require.NotEqualf(t, http.StatusTooManyRequests, rec.Code, "HEAD %d", i)
					want{limit: 2, remaining: 2 - i, resetIn: 30 * i, name: "compute", policy: policy}.check(t, s, rec)
				}
				for range 3 {
					rec := s.deny(t, head)
					want{limit: 2, remaining: 0, resetIn: 60, name: "compute", policy: policy, retryAfter: 30}.check(t, s, rec)
				}
				s.deny(t, request{path: "/api/v1/compute"}) // GET shares the counter
				rec := s.allow(t, 1, request{})
				want{limit: 100, remaining: 99, resetIn: 1, name: "default", policy: defaultPolicy}.check(t, s, rec)
			},
		},
		{
			name: "requests the router answers 404 or 405 are decided like any other and carry the headers",
			config: config.Config{Default: perMinute(3), Endpoints: []config.Endpoint{
				{Name: "admin", Pattern: "/api/v1/admin/*", Limits: perMinute(2)},
			}},
			run: func(t *testing.T, s *server) {
				policy := `"default";q=3;w=60`
				tests := []struct {
					method, path string
					status       int
				}{
					{http.MethodGet, "/api/v1/no-such-route", http.StatusNotFound},
					{http.MethodPost, "/api/v1/test", http.StatusMethodNotAllowed},
					{http.MethodGet, "/api/v1/test", http.StatusOK},
				}
				for i, tt := range tests {
					rec := s.do(request{method: tt.method, path: tt.path})
					require.Equalf(t, tt.status, rec.Code, "%s %s: body %s", tt.method, tt.path, rec.Body)
					want{limit: 3, remaining: int64(2 - i), resetIn: 20 * int64(i+1), name: "default", policy: policy}.check(t, s, rec)
				}
				// The 404s and 405s counted against the client's default counter.
				for _, r := range []request{{path: "/nowhere"}, {method: http.MethodDelete, path: "/api/v1/test"}, {path: "/health"}} {
					rec := s.deny(t, r)
					want{limit: 3, remaining: 0, resetIn: 60, name: "default", policy: policy, retryAfter: 20}.check(t, s, rec)
				}
				// An unrouted path that a rule's pattern matches is decided under that rule.
				for i := int64(1); i <= 2; i++ {
					rec := s.do(request{path: "/api/v1/admin/missing"})
					require.Equal(t, http.StatusNotFound, rec.Code)
					want{limit: 2, remaining: 2 - i, resetIn: 30 * i, name: "admin", policy: `"admin";q=2;w=60`}.check(t, s, rec)
				}
				s.deny(t, request{path: "/api/v1/admin/other"})
			},
		},
		{
			name:   "cost: remaining stays above 0 on a denial when the cost exceeds it",
			config: config.Config{Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Limit: 10, Window: time.Minute, Cost: 3}}}},
			run: func(t *testing.T, s *server) {
				post := request{method: http.MethodPost, path: "/api/v1/compute"}
				rec := s.allow(t, 3, post)
				want{limit: 10, remaining: 1, resetIn: 54, name: "compute", policy: `"compute";q=10;w=60`}.check(t, s, rec)
				rec = s.deny(t, post)
				// 2 more units come back in 12 s.
				want{limit: 10, remaining: 1, resetIn: 54, name: "compute", policy: `"compute";q=10;w=60`, retryAfter: 12}.check(t, s, rec)
				assert.Contains(t, rec.Body.String(), `"remaining":1,`)
			},
		},
		{
			name:   "different clients do not share counters",
			config: config.Config{Default: perMinute(3)},
			run: func(t *testing.T, s *server) {
				s.allow(t, 3, request{})
				s.deny(t, request{})
				rec := s.allow(t, 1, request{remote: "203.0.113.8:41000"})
				assert.EqualValues(t, 2, remaining(t, rec))
				assert.Equal(t, "ip:203.0.113.8", reply(t, rec).Client)
				// The peer's port is not part of the identity.
				s.deny(t, request{remote: "203.0.113.7:9"})
			},
		},
		{
			name:   "concurrent requests of one client are admitted exactly up to the limit",
			config: config.Config{Default: perMinute(10)},
			run: func(t *testing.T, s *server) {
				var ok, denied atomic.Int64
				var wg sync.WaitGroup
				for g := 0; g < 8; g++ {
					wg.Go(func() {
						for i := 0; i < 5; i++ {
							switch rec := s.do(request{}); rec.Code {
							case http.StatusOK:
								ok.Add(1)
							case http.StatusTooManyRequests:
								denied.Add(1)
							default:
								t.Errorf("status %d", rec.Code)
							}
						}
					})
				}
				wg.Wait()
				assert.EqualValues(t, 10, ok.Load())
				assert.EqualValues(t, 30, denied.Load())
			},
		},
		{
			name:   "shadow mode never blocks but sends the headers enforce would, without Retry-After",
			config: config.Config{Mode: config.ModeShadow, Default: perMinute(3)},
			run: func(t *testing.T, s *server) {
				for i := int64(1); i <= 6; i++ {
					rec := s.allow(t, 1, request{})
					left := max(3-i, 0)
					want{limit: 3, remaining: left, resetIn: 20 * (3 - left), name: "default", policy: `"default";q=3;w=60`}.check(t, s, rec)
					outcome := "allowed"
					if i > 3 {
						outcome = "shadow_denied"
					}
					assert.Equal(t, outcome, reply(t, rec).Outcome)
				}
			},
		},
		{
			name:   "enabled = false passes every request through without headers",
			config: config.Config{Enabled: config.Bool(false), Default: perMinute(1)},
			run: func(t *testing.T, s *server) {
				for i := 0; i < 5; i++ {
					rec := s.allow(t, 1, request{})
					noHeaders(t, rec)
					assert.Equal(t, Reply{Status: "ok", Decided: true, Outcome: "disabled"}, reply(t, rec))
				}
				rec := s.do(request{path: "/api/v1/error"})
				assert.Equal(t, http.StatusInternalServerError, rec.Code)
				noHeaders(t, rec)
			},
		},
		{
			name:   "header switches: x_ratelimit = false keeps the IETF headers",
			config: config.Config{Default: perMinute(1), Headers: config.HeadersConfig{XRateLimit: config.Bool(false)}},
			run: func(t *testing.T, s *server) {
				checkHeaders(t, s.allow(t, 1, request{}), map[string]string{"RateLimit": `"default";r=0;t=60`, "RateLimit-Policy": `"default";q=1;w=60`})
				checkHeaders(t, s.deny(t, request{}), map[string]string{"RateLimit": `"default";r=0;t=60`, "RateLimit-Policy": `"default";q=1;w=60`, "Retry-After": "60"})
			},
		},
		{
			name:   "header switches: ietf = false keeps the X-RateLimit headers",
			config: config.Config{Default: perMinute(1), Headers: config.HeadersConfig{IETF: config.Bool(false)}},
			run: func(t *testing.T, s *server) {
				reset := fmt.Sprint(unix(time.Minute))
				xrl := map[string]string{"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "X-RateLimit-Used": "1"}
				checkHeaders(t, s.allow(t, 1, request{}), xrl)
				xrl["Retry-After"] = "60"
				checkHeaders(t, s.deny(t, request{}), xrl)
			},
		},
		{
			name: "penalty: the denial that reaches the threshold starts a cooldown, in Retry-After and the body",
			config: config.Config{
				Default: perMinute(2),
				Penalty: config.PenaltyConfig{Enabled: true, Threshold: 1, BaseCooldown: 5 * time.Minute, MaxCooldown: time.Hour},
			},
			run: func(t *testing.T, s *server) {
				s.allow(t, 2, request{})
				rec := s.deny(t, request{})
				assert.Equal(t, "300", rec.Header().Get("Retry-After"))
				assert.Contains(t, rec.Body.String(), `"retry_after":300,`)
				assert.Contains(t, rec.Body.String(), `"penalty":{"cooldown":300,"violations":1}`)
				s.clock.Advance(2 * time.Minute) // the windows are full again, the cooldown is not over
				rec = s.deny(t, request{})
				assert.Equal(t, "180", rec.Header().Get("Retry-After"))
				assert.Contains(t, rec.Body.String(), `"penalty":{"cooldown":180,"violations":1}`)
				s.clock.Advance(3 * time.Minute)
				s.allow(t, 1, request{})
			},
		},
		{
			name:   "fail_mode closed: a backend failure answers 503 with Retry-After and the unavailable body",
			config: config.Config{FailMode: config.FailClosed},
			run: func(t *testing.T, s *server) {
				s.allow(t, 1, request{})
				s.store.Fail(rate.ErrUnavailable)
				rec := s.do(request{})
				require.Equal(t, http.StatusServiceUnavailable, rec.Code)
				checkHeaders(t, rec, map[string]string{"Retry-After": "1"})
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				assert.JSONEq(t, `{"error": "rate_limit_unavailable", "message": "Rate limiting is temporarily unavailable. Retry in 1 second."}`, rec.Body.String())
				s.store.Fail(nil)
				assert.EqualValues(t, 98, remaining(t, s.allow(t, 1, request{})))
			},
		},
		{
			name:   "fail_mode closed with the problem format",
			config: config.Config{FailMode: config.FailClosed, Response: config.ResponseConfig{Format: config.FormatProblem}},
			run: func(t *testing.T, s *server) {
				s.store.Fail(rate.ErrUnavailable)
				rec := s.do(request{})
				require.Equal(t, http.StatusServiceUnavailable, rec.Code)
				assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
				msg := "Rate limiting is temporarily unavailable. Retry in 1 second."
				assert.JSONEq(t, fmt.Sprintf(`{"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": %[1]q,
					"error": "rate_limit_unavailable", "message": %[1]q}`, msg), rec.Body.String())
			},
		},
		{
			name:   "fail_mode open: a backend failure lets the request through without headers",
			config: config.Config{FailMode: config.FailOpen},
			run: func(t *testing.T, s *server) {
				s.store.Fail(rate.ErrUnavailable)
				rec := s.allow(t, 1, request{})
				noHeaders(t, rec)
				assert.Equal(t, "error", reply(t, rec).Outcome)
			},
		},
		{
			name:   "X-Forwarded-For is read from trusted proxies only",
			config: config.Config{Default: perMinute(3), ClientIP: trusting("", "10.0.0.0/8")},
			run: func(t *testing.T, s *server) {
				proxy := "10.1.2.3:443"
				rec := s.allow(t, 1, request{remote: proxy, xff: "203.0.113.50"})
				assert.Equal(t, "ip:203.0.113.50", reply(t, rec).Client)
				// Walked right to left, skipping trusted hops.
				rec = s.allow(t, 1, request{remote: proxy, xff: "198.51.100.1, 203.0.113.50, 10.9.9.9"})
				assert.Equal(t, "ip:203.0.113.50", reply(t, rec).Client)
				assert.EqualValues(t, 1, remaining(t, rec))
				// The same client, connecting directly, shares the counter.
				s.allow(t, 1, request{remote: "203.0.113.50:5000"})
				s.deny(t, request{remote: proxy, xff: "203.0.113.50"})
				s.allow(t, 1, request{remote: proxy, xff: "203.0.113.51"})

				// An untrusted peer cannot choose its identity by sending the header.
				spoofer := "192.0.2.1:1234"
				for i, forged := range []string{"203.0.113.60", "203.0.113.61", "10.0.0.1"} {
					rec := s.allow(t, 1, request{remote: spoofer, xff: forged})
					assert.Equal(t, "ip:192.0.2.1", reply(t, rec).Client)
					assert.EqualValues(t, 2-i, remaining(t, rec))
				}
				s.deny(t, request{remote: spoofer, xff: "203.0.113.62"})
			},
		},
		{
			name:   "the Forwarded header is read from trusted proxies when configured",
			config: config.Config{ClientIP: trusting(config.HeaderForwarded, "10.0.0.0/8")},
			run: func(t *testing.T, s *server) {
				rec := s.allow(t, 1, request{remote: "10.1.2.3:443", forwarded: `for=203.0.113.50;proto=https, for="[2001:db8:cafe::17]:4711"`})
				assert.Equal(t, "ip:2001:db8:cafe::/64", reply(t, rec).Client)
				rec = s.allow(t, 1, request{remote: "10.1.2.3:443", xff: "203.0.113.50"}) // not the configured header
				assert.Equal(t, "ip:10.1.2.3", reply(t, rec).Client)
			},
		},
		{
			name:   "IPv6 clients in one /64 share a counter; IPv4-mapped addresses count as IPv4",
			config: config.Config{Default: perMinute(3)},
			run: func(t *testing.T, s *server) {
				for i, remote := range []string{"[2001:db8:1:2::1]:1234", "[2001:db8:1:2:aaaa::7]:80", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:9"} {
					rec := s.allow(t, 1, request{remote: remote})
					assert.Equal(t, "ip:2001:db8:1:2::/64", reply(t, rec).Client)
					assert.EqualValues(t, 2-i, remaining(t, rec))
				}
				s.deny(t, request{remote: "[2001:db8:1:2::9]:1234"})
				rec := s.allow(t, 1, request{remote: "[2001:db8:1:3::1]:1234"})
				assert.Equal(t, "ip:2001:db8:1:3::/64", reply(t, rec).Client)

				rec = s.allow(t, 1, request{remote: "[::ffff:203.0.113.7]:1234"})
				assert.Equal(t, "ip:203.0.113.7", reply(t, rec).Client)
				s.allow(t, 2, request{})
				s.deny(t, request{remote: "[::ffff:203.0.113.7]:1234"})
			},
		},
		{
			name:   "a {id} rule matches every id through the route template",
			config: config.Config{Endpoints: []config.Endpoint{{Pattern: "/api/v1/users/{id}", Limits: perMinute(3)}}},
			run:    usersRule,
		},
		{
			// "/api/v1/users/a%2Fb" is the route "/api/v1/users/{id}" to net/http's
			// ServeMux, chi and echo; the rule sees the path's segments as they do, with a
			// route template or without. gin routes the decoded path "/api/v1/users/a/b",
			// which is no route: it answers 404, and the request counts under the default
			// rule as every unrouted request does.
			name:   "ids holding an escaped slash or dot stay under the {id} rule that refused the client",
			config: config.Config{Endpoints: []config.Endpoint{{Name: "users", Pattern: "/api/v1/users/{id}", Limits: perMinute(2)}}},
			run: func(t *testing.T, s *server) {
				policy := `"users";q=2;w=60`
				rec := s.do(request{path: "/api/v1/users/%2e", remote: "203.0.113.8:1"})
				want{limit: 2, remaining: 1, resetIn: 30, name: "users", policy: policy}.check(t, s, rec)
				s.allow(t, 2, request{path: "/api/v1/users/1"})
				unrouted := int64(0)
				for _, id := range []string{"3", "a%2Fb", "c%2fd", "e%2Ff%2Fg", "%2e", "%2E%2e"} {
					path := "/api/v1/users/" + id
					switch served := s.routeOf(path); served {
					case "/api/v1/users/{id}":
						rec := s.deny(t, request{path: path})
						want{limit: 2, remaining: 0, resetIn: 60, name: "users", policy: policy, retryAfter: 30}.check(t, s, rec)
					case "":
						unrouted++
						require.Containsf(t, id, "%2", "%s: only a router that decodes the path before routing serves no route", path)
						rec := s.do(request{path: path})
						require.Equal(t, http.StatusNotFound, rec.Code, path)
						assert.Equal(t, `"default";q=100;w=60`, rec.Header().Get("RateLimit-Policy"), path)
					default:
						t.Fatalf("%s is served by %s", path, served)
					}
				}
				assert.EqualValues(t, 99-unrouted, remaining(t, s.allow(t, 1, request{})), "the default counter saw only the unrouted ones")
			},
		},
		{
			// Routers read "m%65" differently: net/http's ServeMux and gin decode it to the
			// static route "/api/v1/users/me"; chi and echo compare the segment as sent and
			// serve it with "/api/v1/users/{id}". Each request counts under the rule of the
			// route its router served, so on chi and echo the tight rule refuses it.
			name: "an escaped static word counts under the rule of the route the router serves",
			config: config.Config{Endpoints: []config.Endpoint{
				{Name: "me", Pattern: "/api/v1/users/me", Limits: perMinute(100)},
				{Name: "users", Pattern: "/api/v1/users/{id}", Limits: perMinute(2)},
			}},
			run: func(t *testing.T, s *server) {
				ruleOf := map[string]string{"/api/v1/users/me": "me", "/api/v1/users/{id}": "users"}
				require.Equal(t, "/api/v1/users/me", s.routeOf("/api/v1/users/me"))
				require.Equal(t, "/api/v1/users/{id}", s.routeOf("/api/v1/users/7"))
				paths := []string{"/api/v1/users/m%65", "/api/v1/users/%6De"}
				served := s.routeOf(paths[0])
				require.Contains(t, ruleOf, served, "%s is served by a users route", paths[0])
				for _, path := range paths {
					require.Equal(t, served, s.routeOf(path), "%s and %s are served alike", path, paths[0])
					rec := s.allow(t, 1, request{path: path})
					assert.Equal(t, served, rec.Header().Get(RouteHeader))
					assert.Equalf(t, ruleOf[served], reply(t, rec).Rule, "%s, served by %s", path, served)
				}
				if ruleOf[served] == "users" {
					for _, path := range append(paths, "/api/v1/users/7") {
						rec := s.deny(t, request{path: path})
						want{limit: 2, remaining: 0, resetIn: 60, name: "users", policy: `"users";q=2;w=60`, retryAfter: 30}.check(t, s, rec)
					}
					assert.EqualValues(t, 99, remaining(t, s.allow(t, 1, request{path: "/api/v1/users/me"})))
				} else {
					assert.EqualValues(t, 97, remaining(t, s.allow(t, 1, request{path: "/api/v1/users/me"})))
					assert.EqualValues(t, 1, remaining(t, s.allow(t, 1, request{path: "/api/v1/users/7"})))
				}
			},
		},
		{
			name:   "a :id rule matches every id through the route template",
			config: config.Config{Endpoints: []config.Endpoint{{Pattern: "/api/v1/users/:id", Limits: perMinute(3)}}},
			run:    usersRule,
		},
		{
			// A user with two valid tokens, one of the standard tier (5 per hour) and one
			// without a tier (the default's 5 per minute), alternates them: each window
			// length keeps its state, so the flips admit 5 + 5, not a fresh 5 each time.
			name: "alternating a user's tier never grants units",
			config: jwtConfig(config.Config{
				Default: config.Limits{Limit: 5, Window: time.Minute},
				Tiers:   map[string]config.Limits{"standard": {Limit: 5, Window: time.Hour}},
			}),
			run: func(t *testing.T, s *server) {
				tokens := []string{
					token(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "standard"}),
					token(t, jwtSecret, jwt.MapClaims{"sub": "alice"}),
				}
				admitted := map[int]int{}
				for i := range 100 {
					if rec := s.do(request{token: tokens[i%2]}); rec.Code == http.StatusOK {
						admitted[i%2]++
					}
				}
				assert.Equal(t, map[int]int{0: 5, 1: 5}, admitted)
			},
		},
		{
			name: "tiers come from verified tokens; forged, expired and unsigned tokens are anonymous",
			config: jwtConfig(config.Config{
				Tiers: map[string]config.Limits{"premium": perMinute(1000), "standard": perMinute(500)},
				Endpoints: []config.Endpoint{{
					Name: "compute", Pattern: "/api/v1/compute", Limits: perMinute(10),
					Tiers: map[string]config.Limits{"premium": perMinute(50)},
				}},
			}),
			run: func(t *testing.T, s *server) {
				premium := token(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium"})
				tests := []struct {
					name, token, client, tier string
					limit, computeLimit       int64
				}{
					{"premium", premium, "user:alice", "premium", 1000, 50},
					{"standard", token(t, jwtSecret, jwt.MapClaims{"sub": "bob", "tier": "standard"}), "user:bob", "standard", 500, 10},
					{"unconfigured tier", token(t, jwtSecret, jwt.MapClaims{"sub": "carol", "tier": "gold"}), "user:carol", "gold", 100, 10},
					{"no tier claim", token(t, jwtSecret, jwt.MapClaims{"sub": "dave"}), "user:dave", "none", 100, 10},
					{"forged", token(t, forgedSecret, jwt.MapClaims{"sub": "alice", "tier": "premium"}), "ip:203.0.113.7", "anonymous", 100, 10},
					{"expired", token(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium", "exp": expiredSince}), "ip:203.0.113.7", "anonymous", 100, 10},
					{"alg none", unsignedToken(`{"sub":"alice","tier":"premium"}`), "ip:203.0.113.7", "anonymous", 100, 10},
					{"malformed", "not.a.token", "ip:203.0.113.7", "anonymous", 100, 10},
				}
				for _, tt := range tests {
					rec := s.allow(t, 1, request{token: tt.token, remote: "203.0.113.7:1"})
					r := reply(t, rec)
					assert.Equal(t, tt.client, r.Client, tt.name)
					assert.Equal(t, tt.tier, r.Tier, tt.name)
					assert.Equal(t, fmt.Sprint(tt.limit), rec.Header().Get("X-RateLimit-Limit"), tt.name)
					rec = s.allow(t, 1, request{token: tt.token, path: "/api/v1/compute", remote: "203.0.113.7:1"})
					assert.Equal(t, fmt.Sprint(tt.computeLimit), rec.Header().Get("X-RateLimit-Limit"), tt.name)
				}
				// A user is counted as the user, from any address.
				rec := s.allow(t, 1, request{token: premium, remote: "198.51.100.20:1"})
				assert.EqualValues(t, 998, remaining(t, rec))
				assert.Contains(t, rec.Header().Get("RateLimit-Policy"), `"default";q=1000;w=60`)
			},
		},
		{
			name:   "a token earns its tier only up to its limit",
			config: jwtConfig(config.Config{Default: perMinute(2), Tiers: map[string]config.Limits{"premium": perMinute(5)}}),
			run: func(t *testing.T, s *server) {
				premium := token(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium"})
				s.allow(t, 5, request{token: premium})
				rec := s.deny(t, request{token: premium})
				assert.Contains(t, rec.Body.String(), `"scope":"user"`)
				// The anonymous counter of the same address is separate.
				s.allow(t, 2, request{})
				s.deny(t, request{})
			},
		},
		{
			name: "exempt addresses and users are never limited and get no headers",
			config: jwtConfig(config.Config{
				Default:    perMinute(2),
				Exemptions: config.ExemptionsConfig{IPs: []string{"198.51.100.0/24", "2001:db8:ffff::/48"}, Users: []string{"monitor"}},
			}),
			run: func(t *testing.T, s *server) {
				monitor := token(t, jwtSecret, jwt.MapClaims{"sub": "monitor"})
				for _, r := range []request{
					{remote: "198.51.100.9:1"},
					{remote: "[2001:db8:ffff:1::5]:1"},
					{token: monitor},
				} {
					for i := 0; i < 5; i++ {
						rec := s.allow(t, 1, r)
						noHeaders(t, rec)
						assert.Equal(t, "exempt", reply(t, rec).Outcome)
					}
					rec := s.do(request{path: "/api/v1/error", remote: r.remote, token: r.token})
					assert.Equal(t, http.StatusInternalServerError, rec.Code)
					noHeaders(t, rec)
				}
				// A forged token naming the exempt user is an anonymous client.
				forged := token(t, forgedSecret, jwt.MapClaims{"sub": "monitor"})
				rec := s.allow(t, 1, request{token: forged, remote: "203.0.113.9:1"})
				assert.EqualValues(t, 1, remaining(t, rec))
				s.allow(t, 1, request{token: forged, remote: "203.0.113.9:1"})
				s.deny(t, request{token: forged, remote: "203.0.113.9:1"})
			},
		},
	}
	cs = append(cs, identityCases()...)
	for _, alg := range rate.Algorithms() {
		cs = append(cs, testCase{
			name:   "algorithm " + alg.String() + ": a burst of the limit is admitted, the next request gets 429",
			config: config.Config{Algorithm: config.Algorithm(alg.String()), Default: perMinute(20)},
			run: func(t *testing.T, s *server) {
				s.allow(t, 20, request{})
				rec := s.deny(t, request{})
				assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
				s.allow(t, 1, request{remote: "203.0.113.8:1"})
			},
		})
	}
	return cs
}

// usersRule checks a rule for /api/v1/users/{id}: every id shares the rule's counter,
// named after the pattern's slug whichever parameter syntax the rule uses.
func usersRule(t *testing.T, s *server) {
	for i, id := range []string{"1", "42", "alice"} {
		rec := s.allow(t, 1, request{path: "/api/v1/users/" + id})
		want{limit: 3, remaining: int64(2 - i), resetIn: 20 * int64(i+1), name: "api-v1-users-id", policy: `"api-v1-users-id";q=3;w=60`}.check(t, s, rec)
		assert.Equal(t, "api-v1-users-id", reply(t, rec).Rule)
	}
	rec := s.deny(t, request{path: "/api/v1/users/7"})
	assert.Contains(t, rec.Body.String(), `"policy":"api-v1-users-id"`)
	rec = s.allow(t, 1, request{path: "/api/v1/test"})
	assert.EqualValues(t, 99, remaining(t, rec))
}

// trusting is the client_ip section that trusts the proxies in cidrs.
func trusting(header string, cidrs ...string) clientip.Config {
	return clientip.Config{TrustedProxies: cidrs, Header: header}
}
