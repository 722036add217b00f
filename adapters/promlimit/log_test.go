package promlimit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// records decodes the JSON lines of a captured log.
func records(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

// The denial record of SPEC section 7, written by core for every denial whatever the
// observer; checked here end to end, through a real limiter and store.
func TestEveryDenialLogsOneWarnRecordWithEverySpecField(t *testing.T) {
	t.Parallel()
	compute := config.Endpoint{Name: "compute", Pattern: "/api/v1/compute", Methods: []string{"POST"}, Limits: config.Limits{Limit: 2, Window: 10 * time.Second}}
	tests := []struct {
		name    string
		cfg     func(*config.Config)
		auth    bool
		want    map[string]any
		without []string
	}{
		{
			name: "ip client",
			want: map[string]any{
				"client_id": "ip:203.0.113.7", "scope": "ip", "tier": "anonymous", "rule": "compute",
				"method": "POST", "path": "/api/v1/compute", "limit": 2.0, "remaining": 0.0, "window": 10.0,
				"retry_after": 5.0, "algorithm": "token_bucket", "backend": "memory",
			},
			without: []string{"penalty_cooldown", "mode"},
		},
		{
			name: "user client in a penalty",
			cfg: func(c *config.Config) {
				c.Algorithm = "fixed_window"
				c.Penalty = config.PenaltyConfig{Enabled: true, Threshold: 1, BaseCooldown: 30 * time.Second}
				c.JWT.Enabled, c.JWT.Secret = true, testSecret
				c.Endpoints[0].Tiers = map[string]config.Limits{"premium": {Limit: 2, Window: 10 * time.Second}}
			},
			auth: true,
			want: map[string]any{
				"client_id": "user:alice", "scope": "user", "tier": "premium", "rule": "compute",
				"method": "POST", "path": "/api/v1/compute", "limit": 2.0, "remaining": 0.0, "window": 10.0,
				"retry_after": 30.0, "penalty_cooldown": 30.0, "algorithm": "fixed_window", "backend": "memory",
			},
			without: []string{"mode"},
		},
		{
			name: "shadow mode",
			cfg:  func(c *config.Config) { c.Mode = config.ModeShadow },
			want: map[string]any{
				"client_id": "ip:203.0.113.7", "scope": "ip", "tier": "anonymous", "rule": "compute",
				"method": "POST", "path": "/api/v1/compute", "limit": 2.0, "remaining": 0.0, "window": 10.0,
				"retry_after": 5.0, "algorithm": "token_bucket", "backend": "memory", "mode": "shadow",
			},
			without: []string{"penalty_cooldown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Config{Endpoints: []config.Endpoint{compute}}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := newEnv(t, cfg, envConfig{})
			r := req{method: "POST", path: "/api/v1/compute"}
			if tt.auth {
				r.auth = e.bearer(jwt.MapClaims{"sub": "alice", "tier": "premium"})
			}

			e.doN(2, r)
			for _, rec := range records(t, e.log.Take()) {
				assert.Equal(t, "DEBUG", rec["level"], "allowed requests log nothing above debug: %v", rec)
			}

			d := e.do(r)
			require.False(t, d.Outcome == core.Allowed)
			recs := records(t, e.log.Take())
			require.Len(t, recs, 1)
			rec := recs[0]
			assert.Equal(t, "WARN", rec["level"])
			assert.Equal(t, "rate_limit_exceeded", rec["msg"])
			for k, v := range tt.want {
				assert.Equal(t, v, rec[k], k)
			}
			for _, k := range tt.without {
				assert.NotContains(t, rec, k)
			}
		})
	}
}
