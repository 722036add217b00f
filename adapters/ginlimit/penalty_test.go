package ginlimit_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/ginlimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestRetryAfterGrowsAcrossPenaltyCooldowns drives a repeat offender through gin and the
// memory backend: each cooldown it earns is twice the last, up to max_cooldown, and each
// is announced in Retry-After and in the body.
func TestRetryAfterGrowsAcrossPenaltyCooldowns(t *testing.T) {
	t.Parallel()
	clock := adaptertest.NewClock()
	cfg := config.Config{Default: config.Limits{Limit: 1, Window: time.Second}}
	cfg.Penalty = config.PenaltyConfig{Enabled: true, Threshold: 2, Period: time.Hour, BaseCooldown: 30 * time.Second, Multiplier: 2, MaxCooldown: 5 * time.Minute}
	r := gin.New()
	r.Use(ginlimit.New(cfg, ginlimit.WithCoreOptions(core.WithClock(clock.Now))))
	r.GET("/api/v1/test", func(c *gin.Context) { c.Status(http.StatusOK) })
	send := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/test", nil)
		req.RemoteAddr = "203.0.113.7:4000"
		r.ServeHTTP(rec, req)
		return rec
	}

	require.Equal(t, http.StatusOK, send().Code)
	first := send()
	require.Equal(t, http.StatusTooManyRequests, first.Code)
	assert.Equal(t, "1", first.Header().Get("Retry-After"), "one violation, below the threshold: only the window's wait")

	for i, want := range []int{30, 60, 120, 240, 300, 300} {
		rec := send()
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, strconv.Itoa(want), rec.Header().Get("Retry-After"), "cooldown %d", i+1)
		assert.Contains(t, rec.Body.String(), `"penalty":{"cooldown":`+strconv.Itoa(want)+`,"violations":`+strconv.Itoa(i+2)+`}`)

		clock.Advance(time.Duration(want-1) * time.Second)
		held := send()
		assert.Equal(t, http.StatusTooManyRequests, held.Code, "the window is full again but the cooldown holds")
		assert.Equal(t, "1", held.Header().Get("Retry-After"), "and is not extended")

		clock.Advance(time.Second)
		require.Equal(t, http.StatusOK, send().Code, "served again once the cooldown is over")
	}
}
