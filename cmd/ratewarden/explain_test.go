package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/configfile"
)

const jwtSecret = "explain-test-secret-of-at-least-32-bytes"

// jwtConfig has a JWT secret, a premium tier with its own windows on compute, trusted
// proxies, an exempted IP, penalties and API keys; redis.addrs is appended by the tests.
const jwtConfig = `
backend    = "redis"
key_prefix = "rw"
[default]
limit  = 100
window = "1m"
[tiers.premium]
limit  = 1000
window = "1m"
[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
methods = ["POST"]
limit   = 10
window  = "1m"
  [endpoints.tiers.premium]
  windows = [{ limit = 100, window = "1m" }, { limit = 1000, window = "1h" }]
[[endpoints]]
name           = "login"
pattern        = "/api/v1/login"
limit          = 5
window         = "1m"
count_statuses = [401]
[[endpoints]]
name    = "search"
pattern = "/api/v1/search"
scope   = "global"
limit   = 50
window  = "1s"
[client_ip]
trusted_proxies = ["10.0.0.0/8"]
[jwt]
enabled = true
secret  = "` + jwtSecret + `"
[exemptions]
ips = ["192.0.2.10"]
[penalty]
enabled = true
[api_key]
enabled = true
`

// signed returns a bearer token for claims, signed with secret.
func signed(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return "Authorization: Bearer " + s
}

func explainJSON(t *testing.T, environ []string, args ...string) explanation {
	t.Helper()
	r := runCLI(t, environ, append([]string{"explain", "-json"}, args...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	var x explanation
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &x), r.stdout)
	return x
}

// explain contacts nothing: its redis.addrs is a closed port.
func closedRedis(t *testing.T) string {
	return writeConfig(t, jwtConfig+"[redis]\naddrs = [\"127.0.0.1:1\"]\n")
}

func TestExplainVerifiedJWT(t *testing.T) {
	path := closedRedis(t)
	token := signed(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium", "exp": time.Now().Add(time.Hour).Unix()})
	x := explainJSON(t, nil, "-config", path, "-H", token, "-remote", "203.0.113.7", "POST", "/api/v1/compute")

	assert.Equal(t, "limited", x.Outcome)
	assert.Equal(t, "user:alice", x.Client)
	assert.Equal(t, "jwt", x.Identity)
	assert.Equal(t, "premium", x.Tier)
	assert.Equal(t, "203.0.113.7", x.ClientIP)
	require.NotNil(t, x.Rule)
	assert.Equal(t, "compute", x.Rule.Name)
	assert.Equal(t, "tier premium", x.Rule.Limits)
	assert.Equal(t, "token_bucket", x.Rule.Algorithm)
	assert.Equal(t, "user:alice:compute", x.Rule.Counter)
	assert.Equal(t, []windowExplanation{
		{Limit: 100, Window: 60, Policy: "compute", Key: "rw:{user:alice:compute}:60"},
		{Limit: 1000, Window: 3600, Policy: "compute-3600", Key: "rw:{user:alice:compute}:3600"},
	}, x.Rule.Windows)
	assert.Equal(t, "rw:{user:alice:compute}:penalty", x.Rule.PenaltyKey)
	assert.Empty(t, x.Notes)
}

// A token signed with another secret, or expired, never earns its tier: the request is
// the IP's, anonymous, and the output says why.
func TestExplainRejectedJWT(t *testing.T) {
	path := closedRedis(t)
	for name, token := range map[string]string{
		"forged":  signed(t, "another-secret-that-is-32-bytes-long!", jwt.MapClaims{"sub": "alice", "tier": "premium"}),
		"expired": signed(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium", "exp": time.Now().Add(-time.Hour).Unix()}),
	} {
		x := explainJSON(t, nil, "-config", path, "-H", token, "-remote", "203.0.113.7", "POST", "/api/v1/compute")
		assert.Equal(t, "ip:203.0.113.7", x.Client, name)
		assert.Equal(t, core.TierAnonymous, x.Tier, name)
		assert.Equal(t, "the rule's own", x.Rule.Limits, name)
		assert.Equal(t, []windowExplanation{{Limit: 10, Window: 60, Policy: "compute", Key: "rw:{ip:203.0.113.7:compute}:60"}}, x.Rule.Windows, name)
		require.Len(t, x.Notes, 1, name)
		assert.Contains(t, x.Notes[0], "no token the limiter accepts", name)
	}
}

func TestExplainClientIPAndRules(t *testing.T) {
	path := closedRedis(t)

	// A trusted proxy's X-Forwarded-For names the client; GET is not a compute method.
	x := explainJSON(t, nil, "-config", path, "-remote", "10.1.2.3", "-H", "X-Forwarded-For: 198.51.100.9, 10.0.0.5", "GET", "/api/v1/compute?x=1")
	assert.Equal(t, "ip:198.51.100.9", x.Client)
	assert.Equal(t, "GET /api/v1/compute?x=1", x.Request)
	assert.Equal(t, "default", x.Rule.Name)
	assert.Equal(t, "rw:{ip:198.51.100.9:default}:60", x.Rule.Windows[0].Key)

	// An untrusted peer's header is ignored.
	x = explainJSON(t, nil, "-config", path, "-remote", "198.51.100.1", "-H", "X-Forwarded-For: 203.0.113.99", "GET", "/")
	assert.Equal(t, "ip:198.51.100.1", x.Client)

	// IPv6 clients are counted by their /64.
	x = explainJSON(t, nil, "-config", path, "-remote", "[2001:db8:1:2::7]:4000", "GET", "/")
	assert.Equal(t, "ip:2001:db8:1:2::/64", x.Client)

	// A global rule: one counter, whoever asks, with its own limits.
	token := signed(t, jwtSecret, jwt.MapClaims{"sub": "bob", "tier": "premium"})
	x = explainJSON(t, nil, "-config", path, "-H", token, "GET", "/api/v1/search")
	assert.Equal(t, "global", x.Client)
	assert.Equal(t, "the rule's own", x.Rule.Limits)
	assert.Equal(t, "rw:{global:*:search}:1", x.Rule.Windows[0].Key)

	// count_statuses is shown.
	x = explainJSON(t, nil, "-config", path, "POST", "/api/v1/login")
	assert.Equal(t, []int{401}, x.Rule.CountStatuses)

	// An exempted address: no counter at all.
	x = explainJSON(t, nil, "-config", path, "-remote", "192.0.2.10", "GET", "/")
	assert.Equal(t, "exempt", x.Outcome)
	assert.Nil(t, x.Rule)

	// The environment applies, as in the apps.
	x = explainJSON(t, []string{"RATELIMIT_KEY_PREFIX=env", "RATELIMIT_ENABLED=false"}, "-config", path, "GET", "/")
	assert.Equal(t, "disabled", x.Outcome)
	x = explainJSON(t, []string{"RATELIMIT_KEY_PREFIX=env"}, "-config", path, "GET", "/")
	assert.Equal(t, "env:{ip:127.0.0.1:default}:60", x.Rule.Windows[0].Key)
}

// The CLI cannot look API keys up, and says so; the request is shown as the lookup's
// "not found" would leave it (here: the verified token's).
func TestExplainAPIKeyIsNotLookedUp(t *testing.T) {
	path := closedRedis(t)
	token := signed(t, jwtSecret, jwt.MapClaims{"sub": "carol"})
	x := explainJSON(t, nil, "-config", path, "-H", "X-API-Key: sk_live_123", "-H", token, "GET", "/")
	assert.Equal(t, "user:carol", x.Client)
	assert.Equal(t, core.TierNone, x.Tier)
	require.Len(t, x.Notes, 1)
	assert.Contains(t, x.Notes[0], "cannot look keys up")
	assert.NotContains(t, x.Notes[0], "sk_live_123", "raw keys never appear")
}

// The keys explain names are the keys the Redis backend writes for the same request, and
// explain itself writes none.
func TestExplainKeysAreTheBackendsKeys(t *testing.T) {
	srv := redistest.StartServer(t)
	path := writeConfig(t, jwtConfig+"[redis]\naddrs = [\""+srv.Addr()+"\"]\n")
	token := signed(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium"})
	args := []string{"-config", path, "-H", token, "-remote", "203.0.113.7", "POST", "/api/v1/compute"}
	x := explainJSON(t, nil, args...)
	ctx := context.Background()
	client := srv.Client()
	n, err := client.DBSize(ctx).Result()
	require.NoError(t, err)
	require.Zero(t, n, "explain wrote to Redis")

	cfg, err := configfile.Source{Path: path, Environ: []string{}}.Load()
	require.NoError(t, err)
	cfg.Redis.Timeout = 5 * time.Second // the test compares keys; a loaded machine must not time it out
	lim, err := core.New(cfg, core.WithKeyLookup(noKeys))
	require.NoError(t, err)
	defer lim.Close()
	req := httptest.NewRequest("POST", "/api/v1/compute", nil)
	req.RemoteAddr = "203.0.113.7:5000"
	req.Header.Set("Authorization", token[len("Authorization: "):])
	var d core.Decision
	lim.Decide(core.Input{Request: req}, &d)
	require.Equal(t, core.Allowed, d.Outcome, "%v", d.Err)

	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	var want []string
	for _, w := range x.Rule.Windows {
		want = append(want, w.Key)
	}
	slices.Sort(keys)
	slices.Sort(want)
	assert.Equal(t, want, keys)
}

func TestExplainHumanOutput(t *testing.T) {
	path := closedRedis(t)
	token := signed(t, jwtSecret, jwt.MapClaims{"sub": "alice", "tier": "premium"})
	r := runProcess(t, t.TempDir(), nil, "explain", "-config", path, "POST", "/api/v1/compute", "-H", token)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `request    POST /api/v1/compute from 127.0.0.1
outcome    limited
client     user:alice, tier premium, from a verified JWT
rule       compute (pattern /api/v1/compute POST), scope client
limits     tier premium: token_bucket, cost 1
window     100 per 60s, policy "compute", key rw:{user:alice:compute}:60
window     1000 per 3600s, policy "compute-3600", key rw:{user:alice:compute}:3600
penalty    key rw:{user:alice:compute}:penalty
backend    redis
`, r.stdout)
	assert.Empty(t, r.stderr)
}
