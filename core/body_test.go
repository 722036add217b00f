package core_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

func TestTheDeniedBodyInJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{DocumentationURL: "https://example.com/docs/rate-limits", Default: config.Limits{Limit: 100, Window: time.Minute}})
	h.decideN(100, request{path: "/x"})
	d := h.decide(request{path: "/x"})
	reset := strconv.FormatInt(h.clock.Now().Unix()+60, 10)
	rec := newRecorder()
	d.WriteResponse(rec)

	assert.Equal(t, 429, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.JSONEq(t, `{
		"error": "rate_limit_exceeded",
		"message": "Rate limit exceeded: 100 requests per 60 seconds. Retry in 1 second.",
		"limit": 100, "remaining": 0, "reset": `+reset+`, "retry_after": 1, "window": 60,
		"scope": "ip", "policy": "default",
		"limits_exceeded": [{"policy": "default", "limit": 100, "window": 60, "remaining": 0, "reset": `+reset+`, "retry_after": 1}],
		"documentation_url": "https://example.com/docs/rate-limits"
	}`, rec.Body.String())
}

func TestTheDeniedBodyAsProblemDetails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Response: config.ResponseConfig{Format: config.FormatProblem}, Default: config.Limits{Limit: 1, Window: time.Minute}})
	d := h.decideN(2, request{path: "/x"})
	rec := newRecorder()
	d.WriteResponse(rec)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	body := decodeJSON(t, rec.Body.Bytes())
	assert.Equal(t, "about:blank", body["type"])
	assert.Equal(t, "Too Many Requests", body["title"])
	assert.Equal(t, 429.0, body["status"])
	assert.Equal(t, "Rate limit exceeded: 1 request per 60 seconds. Retry in 60 seconds.", body["detail"])
	assert.Equal(t, "rate_limit_exceeded", body["error"])
	assert.NotContains(t, body, "documentation_url", "omitted when not configured")
}

func TestTheDeniedBodyUnderAPenalty(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Default: config.Limits{Limit: 1, Window: time.Second}}
	cfg.Penalty = config.PenaltyConfig{Enabled: true, Threshold: 2, Period: time.Minute, BaseCooldown: 30 * time.Second, Multiplier: 2, MaxCooldown: time.Hour}
	h := newHarness(t, cfg)
	h.decideN(2, request{path: "/x"}) // one allowed, one violation
	d := h.decide(request{path: "/x"})
	require.Equal(t, core.Denied, d.Outcome)
	rec := newRecorder()
	d.WriteResponse(rec)
	body := decodeJSON(t, rec.Body.Bytes())
	assert.Equal(t, map[string]any{"cooldown": 30.0, "violations": 2.0}, body["penalty"])
	assert.Equal(t, "30", rec.Header().Get("Retry-After"))
	assert.Contains(t, h.log.String(), `"penalty_cooldown":30`)
}

// A Decision built by hand, as a test of a custom denied handler might, is answered with
// the default settings instead of a panic.
func TestWriteResponseOfAHandBuiltDecision(t *testing.T) {
	for _, tc := range []struct {
		outcome core.Outcome
		status  int
	}{{core.Denied, http.StatusTooManyRequests}, {core.Unavailable, http.StatusServiceUnavailable}} {
		w := httptest.NewRecorder()
		d := &core.Decision{Outcome: tc.outcome}
		require.NotPanics(t, func() { d.WriteResponse(w) })
		assert.Equal(t, tc.status, w.Code)
		assert.Equal(t, "1", w.Header().Get("Retry-After"))
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
		assert.Equal(t, core.TierOther, d.TierLabel())
	}
}

// Decisions built by hand, of any outcome, answer too (an attack review made each method
// panic on odd ones).
func TestHandBuiltDecisionsAnswer(t *testing.T) {
	for o := core.Disabled; o <= core.Unavailable+1; o++ {
		d := &core.Decision{Outcome: o, Tier: "gold", ClientIP: netip.MustParseAddr("2001:db8::1")}
		require.NotPanics(t, func() {
			d.Binding()
			_, _, _ = d.Limit(), d.Remaining(), d.Reset()
			_, _ = d.RetryAfter(), d.Cooldown()
			_, _, _, _ = d.Rule(), d.Scope(), d.ID(), d.IPKey()
			_, _, _ = d.Now(), d.Policy(), d.Cost()
			d.WriteHeaders(http.Header{})
			d.WriteResponse(httptest.NewRecorder())
		}, "%v", o)
	}
}

// A denied Decision built by hand (to test a custom denied handler's fallback to the
// default answer) has no window: its body says so rather than "0 requests per 0 seconds",
// with reset 0, not the Unix time of the zero time.
func TestTheBodyOfAHandBuiltDenial(t *testing.T) {
	w := httptest.NewRecorder()
	(&core.Decision{Outcome: core.Denied}).WriteResponse(w)
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	var body struct {
		Message string `json:"message"`
		Reset   int64  `json:"reset"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, "Rate limit exceeded. Retry in 1 second.", body.Message)
	assert.Zero(t, body.Reset)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
}

// The longest cooldown a penalty can reach is written in whole seconds, without overflow
// to 1 s.
func TestRetryAfterSecondsOfTheLongestDuration(t *testing.T) {
	assert.Equal(t, int64(9223372037), core.RetryAfterSeconds(1<<63-1))
}

// A limited, admitted decision whose Outcome the application turns into Denied (to refuse
// the request for a reason of its own with the limiter's 429) is answered with a 429 and
// Retry-After 1, as before the Decision kept only a denial's whole answer (an attack
// review: deniedBody read that answer, nil for an admission, and panicked).
func TestAnAdmittedDecisionSetToDeniedIsAnswered(t *testing.T) {
	h := newHarness(t, config.Config{Default: config.Limits{Windows: []config.WindowConfig{{Limit: 5, Window: time.Minute}, {Limit: 2, Window: time.Second}}}})
	d := h.decide(request{path: "/"})
	if d.Outcome != core.Allowed {
		t.Fatalf("outcome %v", d.Outcome)
	}
	d.Outcome = core.Denied
	w := httptest.NewRecorder()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("WriteResponse panicked: %v", p)
			}
		}()
		d.WriteResponse(w)
	}()
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("got %d %v", w.Code, w.Header())
	}
}
