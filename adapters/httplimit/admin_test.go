package httplimit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/configfile"
	"github.com/ratewarden/ratewarden/core/rate"
)

// nopStore admits everything and keeps nothing: POST /admin/reload never consults the store.
type nopStore struct{}

func (nopStore) Take(_ context.Context, _ *rate.Request, res *rate.Result) error {
	res.Allowed = true
	return nil
}
func (nopStore) Reset(context.Context, string, []time.Duration) error { return nil }
func (nopStore) Close() error                                         { return nil }

// bearer is the Authorization header of token, as name, value for adaptertest.Serve.
func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestAdminReload(t *testing.T) {
	t.Parallel()
	withToken := config.Config{Admin: config.AdminConfig{Token: "s3cret"}}
	badTOML := filepath.Join(t.TempDir(), "bad.toml")
	require.NoError(t, os.WriteFile(badTOML, []byte("[default]\nlimit = 5\nwindow = \"1m\n"), 0o600))
	tests := []struct {
		name     string
		current  config.Config
		load     func() (config.Config, error)
		method   string
		path     string
		auth     string
		status   int
		contains string
	}{
		{"no token configured", config.Config{}, nil, "POST", "/admin/reload", "Bearer x", 404, ""},
		{"no credentials", withToken, nil, "POST", "/admin/reload", "", 401, "unauthorized"},
		{"wrong token", withToken, nil, "POST", "/admin/reload", "Bearer wrong", 401, "unauthorized"},
		{"a prefix of the token", withToken, nil, "POST", "/admin/reload", "Bearer s3cre", 401, "unauthorized"},
		{"wrong scheme", withToken, nil, "POST", "/admin/reload", "Basic s3cret", 401, "unauthorized"},
		{"wrong method", withToken, nil, "GET", "/admin/reload", "Bearer s3cret", 405, "method_not_allowed"},
		{"unknown endpoint", withToken, nil, "POST", "/admin/nope", "Bearer s3cret", 404, "not_found"},
		{"invalid configuration", withToken, func() (config.Config, error) { return config.Config{Mode: "loud"}, nil }, "POST", "/admin/reload", "Bearer s3cret", 422, `mode: must be`},
		{"TOML syntax error", withToken, configfile.Source{Path: badTOML, Environ: []string{}}.Load, "POST", "/admin/reload", "Bearer s3cret", 422,
			`{"error":"invalid_configuration","problems":["` + badTOML + `:3:13: toml: basic strings cannot have new lines"]}`},
		{"unreadable configuration", withToken, func() (config.Config, error) { return config.Config{}, errors.New("no such file") }, "POST", "/admin/reload", "Bearer s3cret", 500, "reload_failed"},
		{"success", withToken, func() (config.Config, error) { return withToken, nil }, "POST", "/admin/reload", "Bearer s3cret", 200, `{"status":"reloaded"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim, err := core.New(tt.current, core.WithStore(nopStore{}))
			require.NoError(t, err)
			rec := adaptertest.Serve(httplimit.NewAdmin(lim, tt.load), tt.method, tt.path, "203.0.113.7:1", "Authorization", tt.auth)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), tt.contains)
			if tt.status == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestAdminReloadSwapsTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Admin: config.AdminConfig{Token: "s3cret"}}
	lim, err := core.New(cfg, core.WithStore(nopStore{}))
	require.NoError(t, err)
	next := cfg
	next.Default.Limit = 7
	rec := adaptertest.Serve(httplimit.NewAdmin(lim, func() (config.Config, error) { return next, nil }), http.MethodPost, "/admin/reload", "203.0.113.7:1", bearer("s3cret")...)
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, int64(7), lim.Config().Default.Limit)
}

// TestAdminLocksOutAnAddressAfterFiveFailures: 5 failed attempts within a minute lock
// the client address out (429, Retry-After), even for the right token, until the oldest
// failure is a minute old; other addresses are not affected, and the address is the one
// decisions resolve (trusted proxies, IPv6 /64).
func TestAdminLocksOutAnAddressAfterFiveFailures(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Admin: config.AdminConfig{Token: "s3cret"}, ClientIP: clientip.Config{TrustedProxies: []string{"10.0.0.0/8"}}}
	lim, err := core.New(cfg, core.WithStore(nopStore{}))
	require.NoError(t, err)
	clock := adaptertest.NewClock()
	reloads := 0
	admin := httplimit.NewAdmin(lim, func() (config.Config, error) { reloads++; return cfg, nil }, httplimit.WithAdminClock(clock.Now))
	const attacker = "[2001:db8:1:2::1]:5000"
	send := func(remote, token string, header ...string) *httptest.ResponseRecorder {
		return adaptertest.Serve(admin, http.MethodPost, "/admin/reload", remote, append(bearer(token), header...)...)
	}

	for i := range 5 {
		assert.Equal(t, 401, send(attacker, "guess").Code, "attempt %d", i+1)
		clock.Advance(10 * time.Second)
	}
	// 50 s after the first failure: locked for the 10 s left, whatever the token.
	for _, token := range []string{"guess", "s3cret"} {
		rec := send("[2001:db8:1:2:ffff::9]:1", token) // same /64
		assert.Equal(t, 429, rec.Code)
		assert.Equal(t, "10", rec.Header().Get("Retry-After"))
		assert.JSONEq(t, `{"error":"too_many_failed_attempts"}`, rec.Body.String())
	}
	assert.Zero(t, reloads)
	// The same client behind a trusted proxy is the same address.
	assert.Equal(t, 429, send("10.1.2.3:443", "s3cret", "X-Forwarded-For", "2001:db8:1:2::77").Code)
	// Another address is not affected.
	assert.Equal(t, 200, send("203.0.113.9:1", "s3cret").Code)
	assert.Equal(t, 200, send("10.1.2.3:443", "s3cret", "X-Forwarded-For", "203.0.113.10").Code)

	clock.Advance(9*time.Second + 500*time.Millisecond)
	assert.Equal(t, "1", send(attacker, "s3cret").Header().Get("Retry-After"), "rounded up")
	clock.Advance(500 * time.Millisecond) // the first failure is a minute old: 4 remain
	assert.Equal(t, 200, send(attacker, "s3cret").Code)
	assert.Equal(t, 401, send(attacker, "guess").Code, "the fifth failure within the minute")
	rec := send(attacker, "s3cret")
	assert.Equal(t, 429, rec.Code)
	assert.Equal(t, "10", rec.Header().Get("Retry-After"), "until the second failure is a minute old")
	assert.Equal(t, 3, reloads)
}

// TestAdminLockoutHoldsUnderConcurrentGuesses: parallel guesses from one address get
// exactly 5 tries.
func TestAdminLockoutHoldsUnderConcurrentGuesses(t *testing.T) {
	t.Parallel()
	lim, err := core.New(config.Config{Admin: config.AdminConfig{Token: "s3cret"}}, core.WithStore(nopStore{}))
	require.NoError(t, err)
	admin := httplimit.NewAdmin(lim, func() (config.Config, error) { return lim.Config(), nil })
	codes := make(chan int, 40)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 10 {
				codes <- adaptertest.Serve(admin, http.MethodPost, "/admin/reload", "198.51.100.1:1", bearer("nope")...).Code
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{401: 5, 429: 35}, count)
}

// Guesses from more addresses than the failure table holds (every /64 of one IPv6 /48 is an
// address) never give a locked-out address more tries: a full table refuses new addresses
// instead of forgetting one (a review got 20 guesses through for one address, and 73,970
// for 10,100 addresses within a minute, when it forgot an arbitrary one).
func TestAdminLockoutHoldsWhenTheFailureTableIsFull(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Admin: config.AdminConfig{Token: "s3cret"}}
	lim, err := core.New(cfg, core.WithStore(nopStore{}))
	require.NoError(t, err)
	clock := adaptertest.NewClock()
	admin := httplimit.NewAdmin(lim, func() (config.Config, error) { return cfg, nil }, httplimit.WithAdminClock(clock.Now))
	send := func(i int, token string) int {
		remote := fmt.Sprintf("[2001:db8:1:%x::1]:5000", i)
		return adaptertest.Serve(admin, http.MethodPost, "/admin/reload", remote, bearer(token)...).Code
	}
	fromAdmin := func(token string) int {
		return adaptertest.Serve(admin, http.MethodPost, "/admin/reload", "[2001:db8:3::1]:5000", bearer(token)...).Code
	}
	require.Equal(t, 200, fromAdmin("s3cret"), "the admin authenticates before the attack")
	for range 5 {
		require.Equal(t, 401, send(0, "guess"))
	}
	require.Equal(t, 429, send(0, "guess"))
	guesses := 0
	for i := 1; i <= 12_000; i++ {
		if send(i, "guess") == 401 {
			guesses++
		}
	}
	assert.Equal(t, 9_999, guesses, "only addresses the table can track may guess")
	for range 20 {
		assert.Equal(t, 429, send(0, "guess"), "the locked-out address stays locked")
	}
	assert.Equal(t, 200, fromAdmin("s3cret"), "an address that authenticated lately is let through a full table")
	assert.Equal(t, 401, fromAdmin("guess"), "its token still checked")
	full := adaptertest.Serve(admin, http.MethodPost, "/admin/reload", "[2001:db8:2::1]:5000", bearer("s3cret")...)
	assert.Equal(t, 429, full.Code, "a full table refuses new addresses, token unchecked")
	assert.Equal(t, "60", full.Header().Get("Retry-After"), "room frees when the oldest tracked failure leaves the window")
	clock.Advance(59 * time.Second)
	full = adaptertest.Serve(admin, http.MethodPost, "/admin/reload", "[2001:db8:2::1]:5000", bearer("s3cret")...)
	assert.Equal(t, 429, full.Code, "still full a second before room frees")
	assert.Equal(t, "1", full.Header().Get("Retry-After"))
	clock.Advance(-2 * time.Minute) // a clock step back: swept again, still full, never locked out longer than the window
	full = adaptertest.Serve(admin, http.MethodPost, "/admin/reload", "[2001:db8:2::1]:5000", bearer("s3cret")...)
	assert.Equal(t, 429, full.Code)
	assert.Equal(t, "60", full.Header().Get("Retry-After"))
	clock.Advance(2*time.Minute + time.Second) // every failure is a minute old: room again
	assert.Equal(t, 200, send(20_000, "s3cret"))
}

// logRecords returns the JSON records written to buf, without their time. (The admin
// serves the tests' requests on their goroutine: a plain buffer is safe.)
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		delete(rec, "time")
		out = append(out, rec)
	}
	return out
}

// A failed reload is logged through the limiter's logger (SPEC section 4), whatever failed:
// the file's TOML, its validation, or reading it.
func TestAdminReloadFailuresAreLogged(t *testing.T) {
	t.Parallel()
	withToken := config.Config{Admin: config.AdminConfig{Token: "s3cret"}}
	badTOML := filepath.Join(t.TempDir(), "bad.toml")
	require.NoError(t, os.WriteFile(badTOML, []byte("[default]\nlimit = 5\nwindow = \"1m\n"), 0o600))
	invalid := filepath.Join(t.TempDir(), "invalid.toml")
	require.NoError(t, os.WriteFile(invalid, []byte("mode = \"loud\"\n[default]\nlimit = -1\n"), 0o600))
	tests := []struct {
		name   string
		load   func() (config.Config, error)
		status int
		want   map[string]any
	}{
		{"TOML syntax error", configfile.Source{Path: badTOML, Environ: []string{}}.Load, 422, map[string]any{
			"level": "ERROR", "msg": "config_reload_failed", "error": "ratewarden: " + badTOML + ":3:13: toml: basic strings cannot have new lines"}},
		{"a file that does not validate", configfile.Source{Path: invalid, Environ: []string{}}.Load, 422, map[string]any{
			"level": "ERROR", "msg": "config_reload_failed",
			"error":    "ratewarden: invalid configuration:\n  mode: must be \"enforce\" or \"shadow\", got \"loud\"\n  default.limit: must be ≥ 1, got -1",
			"problems": []any{`mode: must be "enforce" or "shadow", got "loud"`, "default.limit: must be ≥ 1, got -1"}}},
		{"a configuration that does not validate", func() (config.Config, error) { return config.Config{Mode: "loud"}, nil }, 422, map[string]any{
			"level": "ERROR", "msg": "config_reload_failed",
			"error":    "ratewarden: invalid configuration:\n  mode: must be \"enforce\" or \"shadow\", got \"loud\"",
			"problems": []any{`mode: must be "enforce" or "shadow", got "loud"`}}},
		{"unreadable configuration", func() (config.Config, error) { return config.Config{}, errors.New("no such file") }, 500, map[string]any{
			"level": "ERROR", "msg": "config_reload_failed", "error": "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logged bytes.Buffer
			lim, err := core.New(withToken, core.WithStore(nopStore{}), core.WithLogger(slog.New(slog.NewJSONHandler(&logged, nil))))
			require.NoError(t, err)
			rec := adaptertest.Serve(httplimit.NewAdmin(lim, tt.load), http.MethodPost, "/admin/reload", "203.0.113.7:1", bearer("s3cret")...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, []map[string]any{tt.want}, logRecords(t, &logged))
		})
	}
}

// Failed attempts and the requests a lockout refuses are logged at warn through the
// limiter's logger, at most one record a minute of each kind — a brute force cannot flood
// the log — and never with the token.
func TestAdminFailedAttemptsAndLockoutsAreLogged(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	cfg := config.Config{Admin: config.AdminConfig{Token: "s3cret"}}
	lim, err := core.New(cfg, core.WithStore(nopStore{}), core.WithLogger(slog.New(slog.NewJSONHandler(&logged, nil))), core.WithName("api"))
	require.NoError(t, err)
	clock := adaptertest.NewClock()
	admin := httplimit.NewAdmin(lim, func() (config.Config, error) { return cfg, nil }, httplimit.WithAdminClock(clock.Now))
	send := func(remote, token string) int {
		return adaptertest.Serve(admin, http.MethodPost, "/admin/reload", remote, bearer(token)...).Code
	}
	for range 5 {
		require.Equal(t, 401, send("203.0.113.7:1", "guess-1"))
	}
	for range 100 {
		require.Equal(t, 429, send("203.0.113.7:1", "guess-2"))
	}
	clock.Advance(time.Minute)
	require.Equal(t, 401, send("198.51.100.1:1", "guess-3"))
	require.Equal(t, 200, send("198.51.100.2:1", "s3cret"))

	failed := map[string]any{"level": "WARN", "msg": "admin_auth_failed", "limiter": "api", "method": "POST", "path": "/admin/reload", "kind": "unauthorized"}
	with := func(rec map[string]any, kv ...any) map[string]any {
		out := maps.Clone(rec)
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	assert.Equal(t, []map[string]any{
		with(failed, "client_id", "ip:203.0.113.7", "suppressed", 0.0),
		{"level": "WARN", "msg": "admin_locked_out", "limiter": "api", "method": "POST", "path": "/admin/reload", "kind": "locked_out",
			"client_id": "ip:203.0.113.7", "retry_after": 60.0, "suppressed": 0.0},
		with(failed, "client_id", "ip:198.51.100.1", "suppressed", 4.0), // the other four of the first minute
		{"level": "INFO", "msg": "config_reloaded", "limiter": "api", "endpoints": 0.0},
	}, logRecords(t, &logged))
	assert.NotContains(t, logged.String(), "guess")
	assert.NotContains(t, logged.String(), "s3cret")
}
