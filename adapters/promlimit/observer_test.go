package promlimit_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/promlimit"
	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func limitCfg(limit int64) config.Config {
	return config.Config{Default: config.Limits{Limit: limit, Window: time.Minute}}
}

func TestTheExpositionHasTheSpecNamesTypesAndLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limitCfg(2), envConfig{})
	e.doN(3, req{})
	e.obs.ObserveBackend("take", 300*time.Microsecond, "")

	const want = `
# HELP ratelimit_exceeded_total Requests denied with 429 by the rate limiter, by rule and tier; shadow-mode would-be denials are not counted.
# TYPE ratelimit_exceeded_total counter
ratelimit_exceeded_total{rule="default",tier="anonymous"} 1
# HELP ratelimit_requests_total Requests decided by the rate limiter, by rule, tier and decision (allowed, denied, exempt, shadow_denied, error).
# TYPE ratelimit_requests_total counter
ratelimit_requests_total{decision="allowed",rule="default",tier="anonymous"} 2
ratelimit_requests_total{decision="denied",rule="default",tier="anonymous"} 1
ratelimit_requests_total{decision="error",rule="default",tier="anonymous"} 0
ratelimit_requests_total{decision="exempt",rule="default",tier="anonymous"} 0
ratelimit_requests_total{decision="shadow_denied",rule="default",tier="anonymous"} 0
# HELP ratelimit_current_usage Usage ratio (0..1) of the binding window of the busiest clients, at most metrics.top_clients series; a client's series disappears when its window has reset.
# TYPE ratelimit_current_usage gauge
ratelimit_current_usage{client="ip:203.0.113.7",rule="default"} 1
# HELP ratelimit_redis_errors_total Failed Redis backend operations by kind (timeout, connection, script, circuit_open, other).
# TYPE ratelimit_redis_errors_total counter
ratelimit_redis_errors_total{kind="circuit_open"} 0
ratelimit_redis_errors_total{kind="connection"} 0
ratelimit_redis_errors_total{kind="other"} 0
ratelimit_redis_errors_total{kind="script"} 0
ratelimit_redis_errors_total{kind="timeout"} 0
`
	require.NoError(t, testutil.GatherAndCompare(e.reg, strings.NewReader(want),
		"ratelimit_requests_total", "ratelimit_exceeded_total", "ratelimit_current_usage", "ratelimit_redis_errors_total"))

	fams := gather(t, e.reg)
	tests := []struct {
		name   string
		typ    dto.MetricType
		labels []string
	}{
		{"ratelimit_requests_total", dto.MetricType_COUNTER, []string{"decision", "rule", "tier"}},
		{"ratelimit_exceeded_total", dto.MetricType_COUNTER, []string{"rule", "tier"}},
		{"ratelimit_current_usage", dto.MetricType_GAUGE, []string{"client", "rule"}},
		{"ratelimit_redis_latency_seconds", dto.MetricType_HISTOGRAM, []string{"operation"}},
		{"ratelimit_redis_errors_total", dto.MetricType_COUNTER, []string{"kind"}},
		{"ratelimit_memory_keys", dto.MetricType_GAUGE, nil},
		{"ratelimit_memory_evictions_total", dto.MetricType_COUNTER, []string{"reason"}},
	}
	for _, tt := range tests {
		mf := fams[tt.name]
		require.NotNil(t, mf, tt.name)
		assert.Equal(t, tt.typ, mf.GetType(), tt.name)
		assert.Equal(t, tt.labels, labelNames(mf), tt.name)
	}
	assert.Len(t, fams, len(tests), "no other metrics")
}

// The memory store reports its keys and evictions through backend.MemoryObserver.
func TestMemoryKeysAndEvictions(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	obs, err := promlimit.New(reg, config.MetricsConfig{})
	require.NoError(t, err)
	var _ backend.MemoryObserver = obs
	obs.WatchKeys(func() int { return 42 })
	obs.ObserveEvictions("expired", 3)
	obs.ObserveEvictions("lru", 2)
	obs.ObserveEvictions("lru", 1)
	obs.ObserveEvictions("unknown", 9) // not a reason the store reports: not counted
	const want = `
# HELP ratelimit_memory_keys Keys the memory backend holds (0 when it is not in use).
# TYPE ratelimit_memory_keys gauge
ratelimit_memory_keys 42
# HELP ratelimit_memory_evictions_total Keys the memory backend forgot: expired (back to a fresh key's state) or lru (live keys evicted from a full store, each handing its client a fresh quota).
# TYPE ratelimit_memory_evictions_total counter
ratelimit_memory_evictions_total{reason="expired"} 3
ratelimit_memory_evictions_total{reason="lru"} 3
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "ratelimit_memory_keys", "ratelimit_memory_evictions_total"))
}

func TestRequestsAreCountedByDecision(t *testing.T) {
	t.Parallel()
	zero := map[string]float64{"allowed": 0, "denied": 0, "exempt": 0, "shadow_denied": 0, "error": 0}
	with := func(m map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range zero {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	exempt := limitCfg(2)
	exempt.Exemptions.IPs = []string{"203.0.113.0/24"}
	shadow := limitCfg(2)
	shadow.Mode = config.ModeShadow
	failOpen, failClosed := limitCfg(2), limitCfg(2)
	failOpen.FailMode, failClosed.FailMode = config.FailOpen, config.FailClosed

	tests := []struct {
		name     string
		cfg      config.Config
		store    func(rate.Store) rate.Store
		n        int
		outcome  core.Outcome // of the last request
		want     map[string]float64
		exceeded float64
	}{
		{name: "allowed", cfg: limitCfg(5), n: 3, outcome: core.Allowed, want: with(map[string]float64{"allowed": 3})},
		{name: "denied", cfg: limitCfg(2), n: 5, outcome: core.Denied, want: with(map[string]float64{"allowed": 2, "denied": 3}), exceeded: 3},
		{name: "exempt", cfg: exempt, n: 4, outcome: core.Exempt, want: with(map[string]float64{"exempt": 4})},
		{name: "shadow_denied is not exceeded", cfg: shadow, n: 5, outcome: core.ShadowDenied, want: with(map[string]float64{"allowed": 2, "shadow_denied": 3})},
		{
			name: "fail open is an error", cfg: failOpen, n: 3, outcome: core.FailedOpen,
			store: func(rate.Store) rate.Store { return failingStore{} },
			want:  with(map[string]float64{"error": 3}),
		},
		{
			name: "fail closed is an error", cfg: failClosed, n: 3, outcome: core.Unavailable,
			store: func(rate.Store) rate.Store { return failingStore{} },
			want:  with(map[string]float64{"error": 3}),
		},
		{
			name: "a local fallback counts as what it decided", cfg: limitCfg(2), n: 3, outcome: core.Denied,
			store: func(mem rate.Store) rate.Store { return fallbackStore{mem} },
			want:  with(map[string]float64{"allowed": 2, "denied": 1}), exceeded: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.cfg, envConfig{store: tt.store})
			d := e.doN(tt.n, req{})
			require.Equal(t, tt.outcome, d.Outcome)
			match := map[string]string{"rule": "default", "tier": "anonymous"}
			assert.Equal(t, tt.want, values(t, e.reg, "ratelimit_requests_total", match, "decision"))
			assert.Equal(t, map[string]float64{"default/anonymous": tt.exceeded}, values(t, e.reg, "ratelimit_exceeded_total", nil, "rule", "tier"))
		})
	}
}

func TestOnlyCountedRequestsShowUsage(t *testing.T) {
	t.Parallel()
	exempt := limitCfg(2)
	exempt.Exemptions.IPs = []string{"203.0.113.7"}
	failing := limitCfg(2)
	for name, e := range map[string]*env{
		"exempt": newEnv(t, exempt, envConfig{}),
		"error":  newEnv(t, failing, envConfig{store: func(rate.Store) rate.Store { return failingStore{} }}),
	} {
		e.doN(3, req{})
		assert.Empty(t, samples(t, e.reg, "ratelimit_current_usage"), name)
	}
}

func TestDisabledDecisionsAreIgnored(t *testing.T) {
	t.Parallel()
	cfg := limitCfg(2)
	cfg.Enabled = config.Bool(false)
	e := newEnv(t, cfg, envConfig{})
	e.doN(3, req{})
	e.obs.ObserveDecision(&core.Decision{}) // the zero Decision is a Disabled one
	assert.Empty(t, samples(t, e.reg, "ratelimit_requests_total"))
	assert.Empty(t, samples(t, e.reg, "ratelimit_current_usage"))
}

func TestTierLabelIsBoundedByTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg := limitCfg(10)
	cfg.Tiers = map[string]config.Limits{"premium": {Limit: 50, Window: time.Minute}}
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	e := newEnv(t, cfg, envConfig{})

	e.doN(2, req{auth: e.bearer(jwt.MapClaims{"sub": "alice", "tier": "premium"})})
	e.doN(3, req{auth: e.bearer(jwt.MapClaims{"sub": "bob", "tier": "made-up-tier-7"})})
	e.doN(4, req{auth: e.bearer(jwt.MapClaims{"sub": "carol", "tier": "another-made-up"})})
	e.doN(5, req{remote: "198.51.100.9:1"})
	e.doN(1, req{auth: "Bearer forged.token.here"})

	assert.Equal(t, map[string]float64{"premium": 2, "other": 7, "anonymous": 6},
		values(t, e.reg, "ratelimit_requests_total", map[string]string{"decision": "allowed"}, "tier"))
	assert.Equal(t, map[string]float64{
		"user:alice": 2.0 / 50, "user:bob": 3.0 / 10, "user:carol": 4.0 / 10,
		"ip:198.51.100.9": 5.0 / 10, "ip:203.0.113.7": 1.0 / 10,
	}, usage(t, e.reg, "default"))
}

func TestRuleLabelIsTheRuleNameNeverThePath(t *testing.T) {
	t.Parallel()
	cfg := limitCfg(10)
	cfg.Endpoints = []config.Endpoint{
		{Name: "users", Pattern: "/api/v1/users/{id}", Limits: config.Limits{Limit: 3, Window: time.Minute}},
		{Pattern: "/api/v1/compute", Methods: []string{"POST"}, Limits: config.Limits{Limit: 1, Window: time.Minute}},
	}
	e := newEnv(t, cfg, envConfig{})
	e.doN(4, req{path: "/api/v1/users/42"})
	e.doN(2, req{path: "/api/v1/users/43"})
	e.doN(2, req{method: "POST", path: "/api/v1/compute"})
	e.doN(1, req{path: "/api/v1/compute"}) // GET: the default rule
	e.doN(1, req{path: "/health"})

	rule := e.do(req{method: "POST", path: "/api/v1/compute"}).Rule() // unnamed: a slug of the pattern
	require.NotContains(t, rule, "/")
	anon := map[string]string{"tier": "anonymous"}
	allowed := values(t, e.reg, "ratelimit_requests_total", map[string]string{"tier": "anonymous", "decision": "allowed"}, "rule")
	denied := values(t, e.reg, "ratelimit_requests_total", map[string]string{"tier": "anonymous", "decision": "denied"}, "rule")
	assert.Equal(t, map[string]float64{"users": 3, rule: 1, "default": 2}, allowed)
	assert.Equal(t, map[string]float64{"users": 3, rule: 2, "default": 0}, denied)
	assert.Equal(t, map[string]float64{"users": 3, rule: 2, "default": 0}, values(t, e.reg, "ratelimit_exceeded_total", anon, "rule"))
	assert.Equal(t, map[string]float64{"ip:203.0.113.7": 1}, usage(t, e.reg, "users"), "both paths share the rule's counter")
	for _, s := range allSamples(t, e.reg) {
		for name, v := range s.labels {
			assert.NotContains(t, v, "/api", "label %s", name)
		}
	}
}

func TestNoLabelButClientCarriesAnIPOrUserID(t *testing.T) {
	t.Parallel()
	cfg := limitCfg(3)
	cfg.JWT.Enabled, cfg.JWT.Secret = true, testSecret
	cfg.Endpoints = []config.Endpoint{{Name: "users", Pattern: "/api/v1/users/{id}", Limits: config.Limits{Limit: 2, Window: time.Minute}}}
	e := newEnv(t, cfg, envConfig{})
	ips := []string{"203.0.113.7", "198.51.100.23", "2001:db8:1:2::abcd", "192.0.2.200"}
	for _, ip := range ips {
		remote := netip.AddrPortFrom(netip.MustParseAddr(ip), 4000).String()
		e.doN(4, req{remote: remote})
		e.doN(3, req{remote: remote, path: "/api/v1/users/" + ip})
	}
	e.doN(4, req{auth: e.bearer(jwt.MapClaims{"sub": "alice@example.com", "tier": "alice-tier"})})
	e.obs.ObserveBackend("take", time.Millisecond, "timeout")

	secrets := append([]string{"2001:db8:1:2", "alice"}, ips...)
	clients := map[string]bool{}
	for _, s := range allSamples(t, e.reg) {
		for name, v := range s.labels {
			if name == "client" {
				clients[v] = true
				continue
			}
			for _, secret := range secrets {
				assert.NotContains(t, v, secret, "%s label %s", s.labels["__name__"], name)
			}
			_, err := netip.ParseAddr(v)
			assert.Error(t, err, "%s label %s=%q is an address", s.labels["__name__"], name, v)
		}
	}
	assert.Equal(t, map[string]bool{
		"ip:203.0.113.7": true, "ip:198.51.100.23": true, "ip:2001:db8:1:2::/64": true, "ip:192.0.2.200": true,
		"user:alice@example.com": true,
	}, clients)
}

func TestObserveBackendTimesOperationsAndCountsErrorKinds(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	obs, err := promlimit.New(reg, config.MetricsConfig{})
	require.NoError(t, err)

	for _, c := range []struct {
		op   string
		took time.Duration
		kind rate.ErrorKind
	}{
		{"take", 40 * time.Microsecond, ""},
		{"take", 300 * time.Microsecond, ""},
		{"take", 800 * time.Microsecond, ""},
		{"take", 3 * time.Millisecond, ""},
		{"take", 100 * time.Millisecond, "timeout"},
		{"take", 2 * time.Millisecond, "connection"},
		{"take", 2 * time.Millisecond, "connection"},
		{"script_load", time.Millisecond, "script"},
		{"take", 0, "circuit_open"},
		{"take", 0, "circuit_open"},
		{"take", 0, "circuit_open"},
		{"take", time.Millisecond, "something-new"},
	} {
		obs.ObserveBackend(c.op, c.took, c.kind)
	}

	assert.Equal(t, map[string]float64{"timeout": 1, "connection": 2, "script": 1, "circuit_open": 3, "other": 1},
		values(t, reg, "ratelimit_redis_errors_total", nil, "kind"))
	assert.Equal(t, map[string]float64{"take": 8, "script_load": 1},
		values(t, reg, "ratelimit_redis_latency_seconds", nil, "operation"), "circuit_open calls never reached Redis and are not timed")

	var take *dto.Histogram
	for _, m := range gather(t, reg)["ratelimit_redis_latency_seconds"].GetMetric() {
		if m.GetLabel()[0].GetValue() == "take" {
			take = m.GetHistogram()
		}
	}
	require.NotNil(t, take)
	assert.InDelta(t, 0.00004+0.0003+0.0008+0.003+0.1+0.002+0.002+0.001, take.GetSampleSum(), 1e-9)
	cumulative := map[float64]uint64{}
	for _, b := range take.GetBucket() {
		cumulative[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	assert.Equal(t, promlimit.LatencyBuckets, func() []float64 {
		var bounds []float64
		for _, b := range take.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		return bounds
	}())
	assert.Equal(t, uint64(1), cumulative[0.00005])
	assert.Equal(t, uint64(2), cumulative[0.0005])
	assert.Equal(t, uint64(4), cumulative[0.001], "sub-millisecond calls are told apart")
	assert.Equal(t, uint64(6), cumulative[0.0025])
	assert.Equal(t, uint64(7), cumulative[0.005])
	assert.Equal(t, uint64(8), cumulative[0.1])
}

func TestNewRegistersOnTheCallersRegistry(t *testing.T) {
	t.Parallel()
	t.Run("a second observer on the same registry is an error and changes nothing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, limitCfg(5), envConfig{})
		e.do(req{})
		_, err := promlimit.New(e.reg, config.MetricsConfig{})
		require.Error(t, err)
		var already prometheus.AlreadyRegisteredError
		assert.ErrorAs(t, err, &already)
		assert.Contains(t, err.Error(), "ratewarden: promlimit: ")
		e.do(req{})
		assert.Equal(t, 2.0, values(t, e.reg, "ratelimit_requests_total", map[string]string{"decision": "allowed"}, "rule")["default"])
	})
	t.Run("a failed registration leaves the registry as it was", func(t *testing.T) {
		t.Parallel()
		reg := prometheus.NewRegistry()
		squatter := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ratelimit_redis_errors_total", Help: "in the way"})
		require.NoError(t, reg.Register(squatter))
		counting := &countingRegisterer{Registerer: reg}
		_, err := promlimit.New(counting, config.MetricsConfig{})
		require.Error(t, err)
		assert.Positive(t, counting.registered, "some collectors went in before the failure")
		assert.Equal(t, counting.registered, counting.unregistered, "and were taken out again")
		names := []string{}
		for name := range gather(t, reg) {
			names = append(names, name)
		}
		assert.Equal(t, []string{"ratelimit_redis_errors_total"}, names)
	})
	t.Run("namespace", func(t *testing.T) {
		t.Parallel()
		reg := prometheus.NewRegistry()
		obs, err := promlimit.New(reg, config.MetricsConfig{Namespace: "edge"})
		require.NoError(t, err)
		obs.ObserveBackend("take", time.Millisecond, "")
		fams := gather(t, reg)
		assert.Contains(t, fams, "edge_redis_latency_seconds")
		assert.Contains(t, fams, "edge_redis_errors_total")
	})
	for _, tt := range []struct {
		name string
		reg  prometheus.Registerer
		cfg  config.MetricsConfig
		want string
	}{
		{"nil registerer", nil, config.MetricsConfig{}, "nil prometheus.Registerer"},
		{"bad top_clients", prometheus.NewRegistry(), config.MetricsConfig{TopClients: -2}, "top_clients"},
		{"top_clients beyond the bound", prometheus.NewRegistry(), config.MetricsConfig{TopClients: config.MaxTopClients + 1}, "must be 0 to 1000, or -1 for none, got 1001"},
		{"bad namespace", prometheus.NewRegistry(), config.MetricsConfig{Namespace: "1-bad"}, "metrics.namespace"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs, err := promlimit.New(tt.reg, tt.cfg)
			assert.Nil(t, obs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// countingRegisterer counts the successful calls to Register and Unregister.
type countingRegisterer struct {
	prometheus.Registerer
	registered, unregistered int
}

func (r *countingRegisterer) Register(c prometheus.Collector) error {
	err := r.Registerer.Register(c)
	if err == nil {
		r.registered++
	}
	return err
}

func (r *countingRegisterer) Unregister(c prometheus.Collector) bool {
	ok := r.Registerer.Unregister(c)
	if ok {
		r.unregistered++
	}
	return ok
}

// TestStackedLimitersAreToldApartByName: two limiters reporting to one observer, one of
// them named, count a request each under their own rule label.
func TestStackedLimitersAreToldApartByName(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limitCfg(1), envConfig{})
	search, err := core.New(limitCfg(5), core.WithName("search"), core.WithObserver(e.obs), core.WithClock(e.clock.Now),
		core.WithStore(memorystore.New(config.MemoryConfig{}, memorystore.WithClock(e.clock.Now))), core.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = search.Close() })
	for range 2 {
		hr := httptest.NewRequest(http.MethodGet, "/api/v1/search", nil)
		hr.RemoteAddr = "203.0.113.7:1"
		var d core.Decision
		search.Decide(core.Input{Request: hr}, &d)
		e.do(req{path: "/api/v1/search"})
	}
	anon := map[string]string{"tier": "anonymous"}
	assert.Equal(t, map[string]float64{"default": 1, "search.default": 2},
		values(t, e.reg, "ratelimit_requests_total", map[string]string{"tier": "anonymous", "decision": "allowed"}, "rule"))
	assert.Equal(t, map[string]float64{"default": 1, "search.default": 0}, values(t, e.reg, "ratelimit_exceeded_total", anon, "rule"))
}
