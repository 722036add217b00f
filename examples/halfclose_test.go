package examples_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	_ "github.com/ratewarden/ratewarden/backends/redisstore" // the "redis" backend for core.New
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// A client that half-closes its connection after sending a request (shutdown(SHUT_WR):
// it still reads the answer) gets its request's context canceled by net/http, which sees
// the EOF; so does one that hangs up. When that context was the decision's, the Redis store
// refused it, and fail_mode "open" admitted the request uncounted (20 of 20 against a
// limit of 3), "local" counted it apart from Redis, and a failed login's consume after the
// handler was dropped (every password guess checked). Found by an attacker review.

// sendHalfClosed sends raw on a fresh connection, half-closes it when halfClose is set,
// and returns the status it reads back.
func sendHalfClosed(t *testing.T, addr, raw string, halfClose bool) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte(raw))
	require.NoError(t, err)
	if halfClose {
		require.NoError(t, c.(*net.TCPConn).CloseWrite())
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

const halfClosedGet = "GET /api/v1/test HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

// waitCanceled holds a request until net/http has canceled its context (the client
// half-closed), then passes it on, so that the cancellation always comes before the
// decision — no outcome depends on timing. It stands for whatever runs before the limiter.
func waitCanceled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		next.ServeHTTP(w, r)
	})
}

// halfCloseLimiter is a Limiter on Redis with fail_mode failMode: 3 a minute by default,
// and a login rule (count_statuses = [401]) of 3 a minute.
func halfCloseLimiter(t *testing.T, addr string, failMode config.FailMode) *core.Limiter {
	cfg := config.Config{Backend: config.BackendRedis, FailMode: failMode, KeyPrefix: strings.ReplaceAll(t.Name(), "/", "_")}
	cfg.Redis.Addrs = []string{addr}
	cfg.Redis.Timeout = 2 * time.Second // a loaded machine must not fail a decision open here
	cfg.Default = config.Limits{Limit: 3, Window: time.Minute}
	cfg.Endpoints = []config.Endpoint{{
		Name: "login", Pattern: "/login", Methods: []string{http.MethodPost},
		Limits: config.Limits{Limit: 3, Window: time.Minute}, CountStatuses: []int{http.StatusUnauthorized},
	}}
	lim, err := core.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })
	return lim
}

func TestHalfClosedRequestsAreDecidedByRedis(t *testing.T) {
	server := redistest.StartServer(t)
	for _, mode := range []config.FailMode{config.FailOpen, config.FailLocal, config.FailClosed} {
		t.Run(string(mode), func(t *testing.T) {
			lim := halfCloseLimiter(t, server.Addr(), mode)
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			srv := httptest.NewServer(waitCanceled(httplimit.Middleware(lim)(ok)))
			t.Cleanup(srv.Close)
			statuses := map[int]int{}
			for range 20 {
				statuses[sendHalfClosed(t, srv.Listener.Addr().String(), halfClosedGet, true)]++
			}
			assert.Equal(t, map[int]int{http.StatusOK: 3, http.StatusTooManyRequests: 17}, statuses)
			st, err := lim.Status(context.Background(), "ip:127.0.0.1", "default", "")
			require.NoError(t, err)
			assert.Equal(t, int64(0), st.Rules[0].Windows[0].Remaining, "Redis counted them")
		})
	}
}

func TestHalfClosedFailedLoginsAreCounted(t *testing.T) {
	server := redistest.StartServer(t)
	lim := halfCloseLimiter(t, server.Addr(), config.FailOpen)
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.PostFormValue("password") // reads the body: net/http now watches for the EOF
		<-r.Context().Done()            // the password check outlasts the client's FIN
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv := httptest.NewServer(httplimit.Middleware(lim)(login))
	t.Cleanup(srv.Close)
	body := "password=guess"
	raw := "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	statuses := map[int]int{}
	for range 10 {
		statuses[sendHalfClosed(t, srv.Listener.Addr().String(), raw, true)]++
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: 3, http.StatusTooManyRequests: 7}, statuses,
		"every failed login counted after its handler, though its client had half-closed")
}

// The example apps themselves, on Redis without the local cache: half-closed requests
// with no helper ordering the cancellation (before the fix, 4 to 14 of 60 were admitted
// under a limit of 3, and 550 of 640 concurrent ones).
func TestHalfClosedRequestsToTheAppsAreLimited(t *testing.T) {
	server := redistest.StartServer(t)
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_ADDRS=" + server.Addr(),
			"RATELIMIT_DEFAULT_LIMIT=3", "RATELIMIT_REDIS_LOCAL_CACHE=false", "RATELIMIT_REDIS_TIMEOUT=2s",
			"RATELIMIT_KEY_PREFIX=" + strings.ReplaceAll(t.Name(), "/", "_")})
		addr := strings.TrimPrefix(srv.URL, "http://")
		admitted := 0
		for range 30 {
			if sendHalfClosed(t, addr, halfClosedGet, true) == http.StatusOK {
				admitted++
			}
		}
		assert.Equal(t, 3, admitted, "half-closed requests under a limit of 3 a minute")
		assert.NotContains(t, srv.Stderr(), "redis_error")
	})
}
