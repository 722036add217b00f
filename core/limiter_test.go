package core_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func endpoint(name, pattern string, limit int64, methods ...string) config.Endpoint {
	return config.Endpoint{Name: name, Pattern: pattern, Methods: methods, Limits: config.Limits{Limit: limit, Window: time.Minute}}
}

func TestRuleResolutionPicksTheMostSpecificMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		endpoint("compute", "/api/v1/compute", 10, "POST"),
		endpoint("admin", "/api/v1/admin/*", 10),
		endpoint("admin-users", "/api/v1/admin/users/*", 10),
		endpoint("users", "/api/v1/users/{id}", 10),
		endpoint("user-posts", "/api/v1/users/:id/posts", 10),
		endpoint("me", "/api/v1/users/me", 10),
		endpoint("first", "/api/v2/{x}", 10),
		endpoint("second", "/api/v2/*", 10),
	}})
	tests := []struct {
		name, method, path, route, want string
	}{
		{"exact with its method", "POST", "/api/v1/compute", "", "compute"},
		{"exact with another method", "GET", "/api/v1/compute", "", "default"},
		{"a trailing slash does not escape the rule", "POST", "/api/v1/compute/", "", "compute"},
		{"doubled slashes and dot segments neither", "POST", "//api/v1/./compute", "", "compute"},
		{"a wildcard needs one segment at least", "GET", "/api/v1/admin", "", "default"},
		{"a wildcard takes one segment", "GET", "/api/v1/admin/x", "", "admin"},
		{"the longer literal prefix wins", "GET", "/api/v1/admin/users/1/x", "", "admin-users"},
		{"a parameter takes one segment", "GET", "/api/v1/users/42", "", "users"},
		{"an exact pattern beats a parameter", "GET", "/api/v1/users/me", "", "me"},
		{"parameters in the middle", "GET", "/api/v1/users/42/posts", "", "user-posts"},
		{"the route template matches too", "GET", "/api/v1/users/a%2Fb", "/api/v1/users/:id", "users"},
		{"an escaped slash stays inside its segment", "GET", "/api/v1/users/a%2Fb", "", "users"},
		{"an escaped slash reaches no deeper rule", "GET", "/api/v1/users/42%2Fposts", "", "users"},
		{"an escaped dot is a segment", "GET", "/api/v1/users/%2e", "", "users"},
		{"escaped letters are letters", "POST", "/api/v1/%63ompute", "", "compute"},
		{"an escaped slash separates nothing", "POST", "/api%2Fv1/compute", "", "default"},
		{"unless the router routed the decoded path", "POST", "/api%2Fv1/compute", "/api/v1/compute", "compute"},
		{"a tie goes to the rule listed first", "GET", "/api/v2/x", "", "first"},
		{"no match is the default rule", "GET", "/elsewhere", "", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := h.decide(request{method: tt.method, path: tt.path, route: tt.route, remote: "198.51.100.1:1"})
			assert.Equal(t, tt.want, d.Rule())
		})
	}
}

// TestRulesReadThePathAsTheRouterDoes: a path sent with escapes meets the rule of the
// route its router serves: net/http's ServeMux unescapes each segment, chi and echo
// compare the segments as sent, gin routes the decoded path (core.PathView).
func TestRulesReadThePathAsTheRouterDoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		endpoint("compute", "/api/v1/compute", 10, "POST"),
		endpoint("users", "/api/v1/users/{id}", 10),
		endpoint("user-posts", "/api/v1/users/{id}/posts", 10),
		endpoint("me", "/api/v1/users/me", 10),
	}})
	views := []core.PathView{core.PathSegmentsUnescaped, core.PathSegmentsRaw, core.PathDecoded}
	tests := []struct {
		method, path, route string
		want                [3]string // for each of views
	}{
		{"GET", "/api/v1/users/me", "", [3]string{"me", "me", "me"}},
		{"GET", "/api/v1/users/m%65", "", [3]string{"me", "users", "me"}},
		{"GET", "/api/v1/users/%6De", "", [3]string{"me", "users", "me"}},
		{"GET", "/api/v1/users/a%2Fb", "", [3]string{"users", "users", "default"}},
		{"GET", "/api/v1/users/42%2Fposts", "", [3]string{"users", "users", "user-posts"}},
		{"GET", "/api/v1/users/%2e", "", [3]string{"users", "users", "default"}},
		{"GET", "/api/v1/users/%2e", "/api/v1/users/:id", [3]string{"users", "users", "users"}},
		{"POST", "/api/v1/%63ompute", "", [3]string{"compute", "default", "compute"}},
	}
	for _, tt := range tests {
		for i, view := range views {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.RemoteAddr = "198.51.100.1:1"
			d := new(core.Decision)
			h.lim.Decide(core.Input{Request: req, Route: tt.route, PathView: view}, d)
			assert.Equalf(t, tt.want[i], d.Rule(), "%s %s (route %q), view %d", tt.method, tt.path, tt.route, view)
		}
	}
}

// TestAStaleRawPathIsIgnored: a middleware that rewrote r.URL.Path and left RawPath as it
// was has the new path matched, as net/http's ServeMux routes it (url.URL.EscapedPath).
func TestAStaleRawPathIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{
		endpoint("users", "/api/v1/users/{id}", 10),
		endpoint("v2", "/v2/users/*", 10),
	}})
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users/a%2Fb", nil)
	req.URL.Path = "/v2/users/a/b"
	d := new(core.Decision)
	h.lim.Decide(core.Input{Request: req}, d)
	assert.Equal(t, "v2", d.Rule())
}

func TestCountersAreKeptPerClientAndRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Endpoints: []config.Endpoint{endpoint("compute", "/api/v1/compute", 10)}})
	compute := request{path: "/api/v1/compute"}
	require.Equal(t, core.Allowed, h.decideN(10, compute).Outcome)
	assert.Equal(t, core.Denied, h.decide(compute).Outcome)

	other := h.decide(request{path: "/api/v1/test"})
	assert.Equal(t, core.Allowed, other.Outcome)
	assert.Equal(t, int64(99), other.Remaining(), "the default rule has its own counter")
	assert.Equal(t, int64(98), h.decide(request{path: "/health"}).Remaining(), "every default path shares it")

	stranger := h.decide(request{path: "/api/v1/compute", remote: "198.51.100.9:5"})
	assert.Equal(t, int64(9), stranger.Remaining(), "another client has its own counter")
}

func TestTheHundredAndFirstRequestIsDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{})
	r := request{path: "/api/v1/test"}
	last := h.decideN(100, r)
	require.Equal(t, core.Allowed, last.Outcome)
	assert.Equal(t, int64(0), last.Remaining())
	d := h.decide(r)
	assert.Equal(t, core.Denied, d.Outcome)
	assert.False(t, d.Proceed())
	assert.Equal(t, 600*time.Millisecond, d.RetryAfter(), "one token of 100/min refills in 600ms")
}

func signHS256(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return "Bearer " + s
}

const testSecret = "0123456789abcdef0123456789abcdef-test"

func TestTiersComeFromVerifiedTokensOnly(t *testing.T) {
	t.Parallel()
	cfg := config.Config{
		Default: config.Limits{Limit: 2, Window: time.Minute},
		Tiers: map[string]config.Limits{
			"standard": {Limit: 3, Window: time.Minute},
			"premium":  {Limit: 5, Window: time.Minute},
		},
		Endpoints: []config.Endpoint{{
			Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Limit: 1, Window: time.Minute},
			Tiers: map[string]config.Limits{"premium": {Limit: 4, Window: time.Minute}},
		}},
	}
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	h := newHarness(t, cfg)
	exp := h.clock.Now().Add(time.Hour).Unix()
	token := func(user, tier string) http.Header {
		claims := jwt.MapClaims{"sub": user, "exp": exp}
		if tier != "" {
			claims["tier"] = tier
		}
		return http.Header{"Authorization": {signHS256(t, testSecret, claims)}}
	}
	forged := http.Header{"Authorization": {signHS256(t, "an-attacker-secret-that-is-32-bytes!", jwt.MapClaims{"sub": "mallory", "tier": "premium", "exp": exp})}}
	expired := http.Header{"Authorization": {signHS256(t, testSecret, jwt.MapClaims{"sub": "bob", "tier": "premium", "exp": h.clock.Now().Add(-time.Hour).Unix()})}}

	tests := []struct {
		name        string
		header      http.Header
		path        string
		scope, tier string
		limit       int64
	}{
		{"premium default rule", token("alice", "premium"), "/api/v1/test", core.ScopeUser, "premium", 5},
		{"standard default rule", token("carol", "standard"), "/api/v1/test", core.ScopeUser, "standard", 3},
		{"an unconfigured tier gets the default rule's own limits", token("dave", "gold"), "/api/v1/test", core.ScopeUser, "gold", 2},
		{"no tier claim", token("erin", ""), "/api/v1/test", core.ScopeUser, core.TierNone, 2},
		{"an endpoint's tier override", token("frank", "premium"), "/api/v1/compute", core.ScopeUser, "premium", 4},
		{"an endpoint without an override for the tier", token("grace", "standard"), "/api/v1/compute", core.ScopeUser, "standard", 1},
		{"a forged premium token is anonymous", forged, "/api/v1/test", core.ScopeIP, core.TierAnonymous, 2},
		{"an expired token is anonymous", expired, "/api/v1/test", core.ScopeIP, core.TierAnonymous, 2},
		{"garbage is anonymous", http.Header{"Authorization": {"Bearer \x00not.a.jwt"}}, "/api/v1/test", core.ScopeIP, core.TierAnonymous, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote := "198.51.100." + string(rune('1'+i)) + ":1"
			d := h.decide(request{path: tt.path, header: tt.header, remote: remote})
			assert.Equal(t, tt.scope, d.Scope())
			assert.Equal(t, tt.tier, d.Tier)
			assert.Equal(t, tt.limit, d.Limit())
			assert.Equal(t, strconv.FormatInt(tt.limit, 10), headersOf(d).Get("X-RateLimit-Limit"), "the tier's own header text")
			h.decideN(int(tt.limit)-1, request{path: tt.path, header: tt.header, remote: remote})
			assert.Equal(t, core.Denied, h.decide(request{path: tt.path, header: tt.header, remote: remote}).Outcome, "limit+1")
		})
	}
}

func TestExemptClientsPassUntouched(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}}
	cfg.Exemptions.IPs = []string{"10.1.0.0/16", "2001:db8::1"}
	cfg.Exemptions.Users = []string{"ops"}
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	h := newHarness(t, cfg)
	ops := http.Header{"Authorization": {signHS256(t, testSecret, jwt.MapClaims{"sub": "ops"})}}
	for _, r := range []request{
		{path: "/x", remote: "10.1.2.3:1"},
		{path: "/x", remote: "[2001:db8::1]:1"},
		{path: "/x", remote: "192.0.2.1:1", header: ops},
	} {
		for i := 0; i < 3; i++ {
			d := h.decide(r)
			require.Equal(t, core.Exempt, d.Outcome, "%+v", r)
			rec := http.Header{}
			d.WriteHeaders(rec)
			assert.Empty(t, rec, "an exempt request gets no rate-limit headers")
		}
	}
	assert.Equal(t, core.Denied, h.decideN(2, request{path: "/x", remote: "10.2.0.1:1"}).Outcome, "outside the CIDR")
}

func TestShadowModeNeverBlocksButReportsAsEnforceWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Mode: config.ModeShadow, Default: config.Limits{Limit: 2, Window: time.Minute}})
	r := request{path: "/x"}
	h.decideN(2, r)
	d := h.decide(r)
	assert.Equal(t, core.ShadowDenied, d.Outcome)
	assert.True(t, d.Proceed())
	hdr := http.Header{}
	d.WriteHeaders(hdr)
	assert.Equal(t, "0", hdr.Get("X-RateLimit-Remaining"))
	assert.Equal(t, `"default";r=0;t=60`, hdr.Get("RateLimit"))
	assert.Empty(t, hdr.Get("Retry-After"), "no Retry-After on shadow 200s")
	assert.Contains(t, h.log.String(), `"mode":"shadow"`)
}

func TestDisabledLimiterIsAPassThrough(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Enabled: config.Bool(false), Default: config.Limits{Limit: 1, Window: time.Minute}})
	for i := 0; i < 3; i++ {
		d := h.decide(request{path: "/x"})
		require.Equal(t, core.Disabled, d.Outcome)
		hdr := http.Header{}
		d.WriteHeaders(hdr)
		assert.Empty(t, hdr)
	}
	assert.Zero(t, h.store.Len(), "no counter")
}

func TestBackendFailuresFollowTheFailMode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode    config.FailMode
		outcome core.Outcome
		status  int
	}{
		{config.FailOpen, core.FailedOpen, 0},
		{config.FailClosed, core.Unavailable, http.StatusServiceUnavailable},
	} {
		t.Run(string(tt.mode), func(t *testing.T) {
			h := newHarness(t, config.Config{FailMode: tt.mode, Default: config.Limits{Limit: 10, Window: time.Minute, Cost: 3}})
			h.store.Fail(errBackendDown)
			d := h.decide(request{path: "/x"})
			require.Equal(t, tt.outcome, d.Outcome)
			assert.ErrorIs(t, d.Err, errBackendDown)
			assert.EqualValues(t, 3, d.Cost(), "the cost asked of the store")
			assert.Nil(t, d.Policy(), "no window applied")
			assert.False(t, d.Limited())
			rec := newRecorder()
			if d.Proceed() {
				d.WriteHeaders(rec.Header())
				assert.Empty(t, rec.Header(), "fail open sends no rate-limit headers")
				return
			}
			d.WriteResponse(rec)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, "1", rec.Header().Get("Retry-After"))
			assert.JSONEq(t, `{"error":"rate_limit_unavailable","message":"Rate limiting is temporarily unavailable. Retry in 1 second."}`, rec.Body.String())
			assert.NotContains(t, rec.Body.String(), errBackendDown.Error(), "backend errors never reach the client")
		})
	}
}

func TestACustomKeyReplacesTheIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}})
	d := h.decide(request{path: "/x", key: "tenant-7"})
	assert.Equal(t, core.ScopeKey, d.Scope())
	assert.Equal(t, "key:tenant-7", d.ClientID())
	assert.Equal(t, core.Denied, h.decide(request{path: "/x", key: "tenant-7", remote: "192.0.2.99:1"}).Outcome, "the key, not the IP, is counted")
}

func TestMalformedPeersNeverPanicAndShareOneCounter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Default: config.Limits{Limit: 2, Window: time.Minute}})
	for _, remote := range []string{"", "@", "pipe", "[::1", "999.1.1.1:80"} {
		assert.NotPanics(t, func() { h.decide(request{path: "/x", remote: remote + " "}) })
	}
	assert.Equal(t, core.Denied, h.decide(request{path: "/x", remote: "garbage"}).Outcome, "unparsable peers do not each get a fresh quota")
}

func TestEveryDenialLogsAWarnRecordWithAllFields(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Endpoints: []config.Endpoint{endpoint("compute", "/api/v1/compute", 1)}}
	h := newHarness(t, cfg)
	h.decide(request{method: "POST", path: "/api/v1/compute"})
	require.Empty(t, h.log.String(), "allowed requests log nothing above debug")
	h.decide(request{method: "POST", path: "/api/v1/compute"})

	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(h.log.String())), &rec))
	want := map[string]any{
		"level": "WARN", "msg": "rate_limit_exceeded",
		"client_id": "ip:203.0.113.7", "scope": "ip", "tier": "anonymous", "rule": "compute",
		"method": "POST", "path": "/api/v1/compute", "limit": 1.0, "remaining": 0.0, "window": 60.0,
		"retry_after": 60.0, "algorithm": "token_bucket", "backend": "memory",
	}
	for k, v := range want {
		assert.Equal(t, v, rec[k], k)
	}
}

func TestTierLabelsAreBoundedByTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Tiers: map[string]config.Limits{"premium": {Limit: 5, Window: time.Minute}}}
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	h := newHarness(t, cfg)
	label := func(tier string) string {
		hdr := http.Header{"Authorization": {signHS256(t, testSecret, jwt.MapClaims{"sub": "u", "tier": tier})}}
		return h.decide(request{path: "/x", header: hdr}).TierLabel()
	}
	assert.Equal(t, "premium", label("premium"))
	assert.Equal(t, core.TierOther, label("made-up-7"))
	assert.Equal(t, core.TierAnonymous, h.decide(request{path: "/x"}).TierLabel())
}

// A huge id — a megabyte username from a form, a custom key — costs a bounded key: the
// memory store's bound counts keys, so the bytes per key must be bounded too (an attack
// review grew the heap by 63 MiB with 60 such requests).
func TestLongIDsAreDigestedInKeysAndLogs(t *testing.T) {
	h := newHarness(t, config.Config{})
	huge := strings.Repeat("u", 1<<20)
	d := h.decide(request{path: "/", key: huge})
	assert.Equal(t, core.Allowed, d.Outcome)
	assert.Len(t, d.ClientID(), len("key:sha256:")+64)
	assert.True(t, strings.HasPrefix(d.ClientID(), "key:sha256:"))
	for _, k := range h.store.Keys() {
		assert.Less(t, len(k), 200, "the store's key")
	}
	other := h.decide(request{path: "/", key: huge + "v"})
	assert.NotEqual(t, d.ClientID(), other.ClientID(), "distinct ids stay distinct")
	assert.EqualValues(t, 99, other.Remaining())
	short := strings.Repeat("u", 128)
	assert.Equal(t, "key:"+short, h.decide(request{path: "/", key: short}).ClientID(), "ids up to 128 bytes are kept as they are")
}

// An id with a brace would choose the Redis Cluster hash tag of its keys: it is digested.
func TestIDsWithBracesAreDigested(t *testing.T) {
	h := newHarness(t, config.Config{})
	a := h.decide(request{path: "/", key: "a}x"})
	b := h.decide(request{path: "/", key: "a}y"})
	assert.True(t, strings.HasPrefix(a.ClientID(), "key:sha256:"), a.ClientID())
	assert.NotEqual(t, a.ClientID(), b.ClientID())
	for _, k := range h.store.Keys() {
		assert.NotContains(t, k, "}")
	}
}

// An id written as a digest is digested again: it cannot name the counter of the id it is
// the digest of (a review locked a client out by sending its digest as a key).
func TestAnIDThatLooksLikeADigestIsDigestedToo(t *testing.T) {
	h := newHarness(t, config.Config{})
	victim := h.decide(request{path: "/", key: "{acme}/alice"})
	forged := h.decide(request{path: "/", key: strings.TrimPrefix(victim.ClientID(), "key:")})
	assert.NotEqual(t, victim.ClientID(), forged.ClientID())
	assert.EqualValues(t, 99, forged.Remaining(), "a counter of its own")
}

// sparseStore fills only what it decides, as a Take on a zero Result may: a denial of key
// "penalized" with a cooldown, a plain denial of any other key, leaving Cooldown and
// Violations as they were.
type sparseStore struct{}

func (sparseStore) Take(_ context.Context, req *rate.Request, res *rate.Result) error {
	res.Allowed = false
	res.Windows[0] = rate.WindowResult{Remaining: 0, ResetAfter: 2 * time.Second, RetryAfter: 2 * time.Second}
	if req.Key == "key:penalized:default" {
		res.Cooldown, res.Violations = time.Hour, 9
	}
	return nil
}
func (sparseStore) Reset(context.Context, string, []time.Duration) error { return nil }
func (sparseStore) Close() error                                         { return nil }

// Every Take answers into a zero Result, though the Limiter pools them: a store that does
// not write every field must not hand back another client's Cooldown, or a denied client
// gets Retry-After 3600 and a penalty it never earned (an attack review).
func TestAStoreAnswersIntoAZeroResult(t *testing.T) {
	clock := adaptertest.NewClock()
	lim, err := core.New(config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}}, core.WithStore(sparseStore{}), core.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	for i := 0; i < 50; i++ { // sync.Pool may drop an item (always possible under -race): try a few times
		for _, key := range []string{"penalized", "plain"} {
			r := httptest.NewRequest("GET", "/", nil)
			h := http.Header{}
			_, d := lim.Gate(core.Input{Request: r, Key: key}, h)
			if key == "plain" && (h.Get("Retry-After") != "2" || d.Cooldown() != 0) {
				t.Fatalf("round %d: plain denial got Retry-After %q, Cooldown %v", i, h.Get("Retry-After"), d.Cooldown())
			}
		}
	}
}
