package core_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

func headersOf(d *core.Decision) http.Header {
	h := http.Header{}
	d.WriteHeaders(h)
	return h
}

func TestHeadersOfAnAllowedRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{})
	base := h.clock.Now().Unix()
	got := headersOf(h.decide(request{path: "/x"}))
	assert.Equal(t, http.Header{
		"X-Ratelimit-Limit":     {"100"},
		"X-Ratelimit-Remaining": {"99"},
		"X-Ratelimit-Reset":     {strconv.FormatInt(base+1, 10)}, // full again in 600ms, rounded up
		"X-Ratelimit-Used":      {"1"},
		"Ratelimit":             {`"default";r=99;t=1`},
		"Ratelimit-Policy":      {`"default";q=100;w=60`},
	}, got)
}

func TestHeadersNameTheBindingWindowOfSeveral(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Algorithm: "fixed_window", Endpoints: []config.Endpoint{{
		Name: "compute", Pattern: "/api/v1/compute",
		Limits: config.Limits{Windows: []config.WindowConfig{{Limit: 10, Window: time.Minute}, {Limit: 100, Window: time.Hour}}},
	}}})
	base := h.clock.Now().Unix()
	r := request{path: "/api/v1/compute"}
	got := headersOf(h.decide(r))
	assert.Equal(t, `"compute";q=10;w=60,"compute-3600";q=100;w=3600`, got.Get("RateLimit-Policy"))
	assert.Equal(t, "10", got.Get("X-RateLimit-Limit"), "the minute window has fewer units left")
	assert.Equal(t, "9", got.Get("X-RateLimit-Remaining"))
	assert.Equal(t, strconv.FormatInt(base+60, 10), got.Get("X-RateLimit-Reset"))
	assert.Equal(t, `"compute";r=9;t=60`, got.Get("RateLimit"))

	h.decideN(9, r)
	h.clock.Advance(time.Minute) // a new minute; the hour window has 90 left
	got = headersOf(h.decide(r))
	assert.Equal(t, "9", got.Get("X-RateLimit-Remaining"))
	h.decideN(9, r)
	denied := h.decide(r)
	assert.Equal(t, core.Denied, denied.Outcome)
	got = headersOf(denied)
	assert.Equal(t, "0", got.Get("X-RateLimit-Remaining"))
	assert.Equal(t, "60", got.Get("Retry-After"))
}

func TestHeaderFamiliesCanBeSwitchedOff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		headers    config.HeadersConfig
		want, none []string
	}{
		{"x only", config.HeadersConfig{IETF: config.Bool(false)}, []string{"X-RateLimit-Limit", "Retry-After"}, []string{"RateLimit", "RateLimit-Policy"}},
		{"ietf only", config.HeadersConfig{XRateLimit: config.Bool(false)}, []string{"RateLimit", "RateLimit-Policy", "Retry-After"}, []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Config{Headers: tt.headers, Default: config.Limits{Limit: 1, Window: time.Minute}})
			got := headersOf(h.decideN(2, request{path: "/x"}))
			for _, name := range tt.want {
				assert.NotEmpty(t, got.Get(name), name)
			}
			for _, name := range tt.none {
				assert.Empty(t, got.Get(name), name)
			}
		})
	}
}

func TestRetryAfterIsRoundedUpToWholeSeconds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Default: config.Limits{Limit: 3, Window: 10 * time.Second}})
	d := h.decideN(4, request{path: "/x"})
	assert.Equal(t, 3333334*time.Microsecond, d.RetryAfter())
	assert.Equal(t, "4", headersOf(d).Get("Retry-After"))
}

func BenchmarkWriteHeaders(b *testing.B) {
	h := &harness{store: adaptertest.NewStore(), clock: adaptertest.NewClock()}
	lim, err := core.New(config.Config{}, core.WithStore(h.store), core.WithClock(h.clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	h.lim = lim
	d := h.decide(request{path: "/x"})
	hdr := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		clear(hdr) // keeps the map's storage, so only WriteHeaders' own allocations count
		d.WriteHeaders(hdr)
	}
}

// RateLimit's r= is the remaining count whichever header families are on: with the
// X-RateLimit family it reuses X-RateLimit-Remaining's digits, without it formats them.
func TestRateLimitRemainingWithEitherFamily(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		headers config.HeadersConfig
	}{
		{"both", config.HeadersConfig{}},
		{"ietf only", config.HeadersConfig{XRateLimit: config.Bool(false)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Config{Headers: tt.headers, Default: config.Limits{Limit: 12345, Window: time.Minute}})
			got := headersOf(h.decideN(3, request{path: "/x"}))
			assert.Equal(t, `"default";r=12342;t=1`, got.Get("RateLimit"))
		})
	}
}

// TestResetOfAWindowEndingOnAWholeSecond: a decision made at an instant with nanoseconds
// below its microsecond (every real clock reads some) names the end of a fixed window
// that ends on a whole second as that second, in X-RateLimit-Reset, Decision.Reset and the
// 429 body. The stores decide at the microsecond; adding the time until the window ends to
// the nanosecond named the second after it (found by a new user's test).
func TestResetOfAWindowEndingOnAWholeSecond(t *testing.T) {
	t.Parallel()
	clock := adaptertest.NewClock()
	end := clock.Now().Truncate(10 * time.Second).Add(10 * time.Second) // the window's end
	clock.Advance(end.Sub(clock.Now()) - 7*time.Second - 499999700)     // 7.4999997 s before it
	h := newHarness(t, config.Config{Algorithm: "fixed_window", Default: config.Limits{Limit: 3, Window: 10 * time.Second}},
		core.WithClock(clock.Now))
	want := strconv.FormatInt(end.Unix(), 10)
	var d *core.Decision
	for range 3 {
		d = h.decide(request{path: "/"})
		require.Equal(t, core.Allowed, d.Outcome)
		assert.Equal(t, want, headersOf(d).Get("X-RateLimit-Reset"))
		assert.Equal(t, end, d.Reset())
	}
	d = h.decide(request{path: "/"})
	require.Equal(t, core.Denied, d.Outcome)
	assert.Equal(t, want, headersOf(d).Get("X-RateLimit-Reset"))
	rec := httptest.NewRecorder()
	d.WriteResponse(rec)
	assert.Contains(t, rec.Body.String(), `"reset":`+want)
}
