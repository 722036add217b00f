package adaptertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// server is the handler of one case with the clock and store it decides with.
type server struct {
	h     http.Handler
	clock *Clock
	store *Store
}

func newServer(t *testing.T, mount Mount, cfg config.Config, opts ...core.Option) *server {
	t.Helper()
	s := &server{clock: NewClock(), store: NewStore()}
	opts = append([]core.Option{core.WithStore(s.store), core.WithClock(s.clock.Now), core.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s.h = mount(t, cfg, opts...)
	require.NotNil(t, s.h, "Mount returned no handler")
	return s
}

// defaultRemote is the peer address of requests that do not set one.
const defaultRemote = "203.0.113.7:41000"

// request is one request of a case; zero fields mean GET /api/v1/test from defaultRemote.
type request struct {
	method    string
	path      string
	remote    string // RemoteAddr
	token     string // sent as "Authorization: Bearer <token>"
	apiKey    string // X-API-Key
	xff       string // X-Forwarded-For
	forwarded string // Forwarded
	skip      bool   // sent with SkipHeader: the middleware's skipper lets it through
	// hungUp: the request's context is canceled before it is served, as net/http cancels
	// it when the client closes or half-closes its connection.
	hungUp bool
}

func (s *server) do(r request) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.path == "" {
		r.path = "/api/v1/test"
	}
	if r.remote == "" {
		r.remote = defaultRemote
	}
	req := httptest.NewRequest(r.method, r.path, nil)
	req.RemoteAddr = r.remote
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.apiKey != "" {
		req.Header.Set("X-API-Key", r.apiKey)
	}
	if r.xff != "" {
		req.Header.Set("X-Forwarded-For", r.xff)
	}
	if r.forwarded != "" {
		req.Header.Set("Forwarded", r.forwarded)
	}
	if r.skip {
		req.Header.Set(SkipHeader, "1")
	}
	if r.hungUp {
		ctx, cancel := context.WithCancel(req.Context())
		cancel()
		req = req.WithContext(ctx)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// allow sends r n times and requires a 200 for each; it returns the last response.
func (s *server) allow(t *testing.T, n int, r request) *httptest.ResponseRecorder {
	t.Helper()
	var rec *httptest.ResponseRecorder
	for i := 0; i < n; i++ {
		rec = s.do(r)
		require.Equalf(t, http.StatusOK, rec.Code, "request %d of %d to %s: body %s", i+1, n, r.path, rec.Body)
	}
	return rec
}

// deny sends r and requires a 429.
func (s *server) deny(t *testing.T, r request) *httptest.ResponseRecorder {
	t.Helper()
	rec := s.do(r)
	require.Equalf(t, http.StatusTooManyRequests, rec.Code, "%s: body %s", r.path, rec.Body)
	return rec
}

// routeOf is the route the router serves path with, [RouteHeader] of the answer to a
// GET the skipper lets through (so nothing counts it), or "" when no [OK] route served it.
func (s *server) routeOf(path string) string {
	return s.do(request{path: path, skip: true}).Header().Get(RouteHeader)
}

// reply decodes the [Reply] of an OK route.
func reply(t *testing.T, rec *httptest.ResponseRecorder) Reply {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code)
	var r Reply
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r), "body %q", rec.Body)
	return r
}

// allHeaders are the headers a limiter may set.
var allHeaders = []string{
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used",
	"RateLimit", "RateLimit-Policy", "Retry-After",
}

// want are the rate-limit headers a response must carry, at the clock's current time.
type want struct {
	limit, remaining int64
	resetIn          int64  // whole seconds until the binding window is full again
	name             string // policy name of the binding window, in RateLimit
	policy           string // RateLimit-Policy
	retryAfter       int64  // Retry-After; 0 = absent
}

// check asserts every header of w, each sent exactly once, and no other.
func (w want) check(t *testing.T, s *server, rec *httptest.ResponseRecorder) {
	t.Helper()
	now := s.clock.Now().Unix()
	exp := map[string]string{
		"X-RateLimit-Limit":     strconv.FormatInt(w.limit, 10),
		"X-RateLimit-Remaining": strconv.FormatInt(w.remaining, 10),
		"X-RateLimit-Reset":     strconv.FormatInt(now+w.resetIn, 10),
		"X-RateLimit-Used":      strconv.FormatInt(w.limit-w.remaining, 10),
		"RateLimit":             fmt.Sprintf("%q;r=%d;t=%d", w.name, w.remaining, w.resetIn),
		"RateLimit-Policy":      w.policy,
	}
	if w.retryAfter > 0 {
		exp["Retry-After"] = strconv.FormatInt(w.retryAfter, 10)
	}
	checkHeaders(t, rec, exp)
}

// checkHeaders asserts that the rate-limit headers of rec are exactly exp.
func checkHeaders(t *testing.T, rec *httptest.ResponseRecorder, exp map[string]string) {
	t.Helper()
	for _, name := range allHeaders {
		if v, ok := exp[name]; ok {
			assert.Equalf(t, []string{v}, rec.Header().Values(name), "%s (status %d)", name, rec.Code)
		} else {
			assert.Emptyf(t, rec.Header().Values(name), "%s must be absent (status %d)", name, rec.Code)
		}
	}
}

// noHeaders asserts that rec carries no rate-limit header.
func noHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	checkHeaders(t, rec, nil)
}

// remaining is the X-RateLimit-Remaining of rec.
func remaining(t *testing.T, rec *httptest.ResponseRecorder) int64 {
	t.Helper()
	n, err := strconv.ParseInt(rec.Header().Get("X-RateLimit-Remaining"), 10, 64)
	require.NoError(t, err, "X-RateLimit-Remaining")
	return n
}

// unix is Base plus d, in Unix seconds.
func unix(d time.Duration) int64 { return Base.Add(d).Unix() }

// The JWT settings of the cases that use tokens. HMAC secrets must be 32 bytes or more.
const (
	jwtSecret    = "adaptertest-hmac-secret-0123456789abcdef"
	forgedSecret = "not-the-servers-secret-0123456789abcdef"
)

// Expiry times of tokens that must be valid, and expired, whether the verifier checks
// them against the limiter's clock (the suite's, starting at Base) or the real one.
var (
	validUntil   = later(time.Now(), Base).Add(time.Hour).Unix()
	expiredSince = earlier(time.Now(), Base).Add(-time.Hour).Unix()
)

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// token signs claims with HS256. exp defaults to validUntil; pass "exp" to override it.
func token(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = validUntil
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

// unsignedToken is a token with "alg": "none", which must never be accepted.
func unsignedToken(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}
