package promlimit

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// LatencyBuckets are the upper bounds, in seconds, of redis_latency_seconds: from 50 µs
// (a loopback round trip) to 250 ms (past the default 100 ms decision budget).
var LatencyBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25}

// decisionNames are the values of the decision label of requests_total: the outcomes'
// names (core.Outcome.String), with core.Unavailable counted as "error" like
// core.FailedOpen (SPEC section 7: the backend failed, whatever the fail mode).
var decisionNames = [...]string{
	decAllowed:      core.Allowed.String(),
	decDenied:       core.Denied.String(),
	decExempt:       core.Exempt.String(),
	decShadowDenied: core.ShadowDenied.String(),
	decError:        core.FailedOpen.String(),
}

const (
	decAllowed = iota
	decDenied
	decExempt
	decShadowDenied
	decError
	numDecisions
)

// decisionOf maps a core outcome to its decision label index; -1 is not counted.
var decisionOf = [...]int8{
	core.Disabled:     -1,
	core.Allowed:      decAllowed,
	core.Denied:       decDenied,
	core.ShadowDenied: decShadowDenied,
	core.Exempt:       decExempt,
	core.FailedOpen:   decError,
	core.Unavailable:  decError,
}

// evictionReasons are the values of the reason label of memory_evictions_total, as the
// memory store reports them (backend.MemoryObserver).
var evictionReasons = [...]string{"expired", "lru"}

// Observer exports decisions and backend calls as Prometheus metrics (SPEC section 7). It
// implements [core.Observer]; pass it to [core.New] with [core.WithObserver].
//
// An Observer is safe for concurrent use. Build one with [New]; the zero value is not
// usable. ObserveDecision allocates only when it first sees a (rule, tier) pair and when
// it starts tracking a user or custom-key client (a copy of the id); it never formats a
// client label, which is done at scrape time.
type Observer struct {
	requests *prometheus.CounterVec
	exceeded *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errs     [len(rate.ErrorKinds)]prometheus.Counter
	top      *topClients // nil when top_clients = -1

	memoryKeys atomic.Pointer[func() int] // the memory store's key count; nil before WatchKeys
	evictions  [len(evictionReasons)]prometheus.Counter

	// series caches the children of requests_total and exceeded_total per rule, then per
	// tier: CounterVec.WithLabelValues allocates, and this runs on every request. The map
	// and the rules in it are replaced, never changed, so readers need no lock; seriesMu
	// serializes writers.
	series   atomic.Pointer[map[string]*ruleSeries]
	seriesMu sync.Mutex

	// ops caches the histogram child of each backend operation, the same way.
	ops   atomic.Pointer[map[string]prometheus.Observer]
	opsMu sync.Mutex
}

// ruleSeries are the series of one rule.
type ruleSeries struct {
	hash  uint64 // of the rule name, for the client tracker
	tiers []*tierSeries
}

// tierSeries are the series of one rule and tier label.
type tierSeries struct {
	tier     string
	requests [numDecisions]prometheus.Counter
	exceeded prometheus.Counter
}

// Option configures an [Observer] beyond its [config.MetricsConfig].
type Option interface{ apply(*options) }

type options struct {
	now func() time.Time
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithClock sets the clock that decides, at scrape time, which clients' windows have
// reset (default time.Now). Give it the limiter's clock ([core.WithClock]) in tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// New builds an Observer and registers its metrics on reg, the caller's registry
// (prometheus.DefaultRegisterer or one from prometheus.NewRegistry). The namespace is
// cfg.Namespace (default "ratelimit"); ratelimit_current_usage keeps at most
// cfg.TopClients series (0 means the default 20; -1 means none, and the gauge is not
// registered; at most config.MaxTopClients). cfg.Enabled is not read: whether to observe at all is the caller's choice.
//
// New returns an error, and leaves reg as it was, when cfg is invalid or a metric cannot
// be registered, for instance because reg already holds one of the same name (a second
// Observer on the same registry).
func New(reg prometheus.Registerer, cfg config.MetricsConfig, opts ...Option) (*Observer, error) {
	if reg == nil {
		return nil, errors.New("ratewarden: promlimit: nil prometheus.Registerer")
	}
	if cfg.TopClients < -1 || cfg.TopClients > config.MaxTopClients {
		return nil, fmt.Errorf("ratewarden: promlimit: metrics.top_clients must be 0 to %d, or -1 for none, got %d", config.MaxTopClients, cfg.TopClients)
	}
	if cfg.Namespace != "" && !validNamespace(cfg.Namespace) {
		return nil, fmt.Errorf("ratewarden: promlimit: metrics.namespace must match ^[a-zA-Z_][a-zA-Z0-9_]*$, got %q", cfg.Namespace)
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	defaulted := config.Config{Metrics: cfg}.WithDefaults().Metrics
	ns, topN := defaulted.Namespace, defaulted.TopClients

	obs := &Observer{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "requests_total",
			Help: "Requests decided by the rate limiter, by rule, tier and decision (allowed, denied, exempt, shadow_denied, error).",
		}, []string{"rule", "tier", "decision"}),
		exceeded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "exceeded_total",
			Help: "Requests denied with 429 by the rate limiter, by rule and tier; shadow-mode would-be denials are not counted.",
		}, []string{"rule", "tier"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "redis_latency_seconds",
			Help:    "Duration of Redis backend operations, retries included; calls refused by an open circuit breaker are not timed.",
			Buckets: LatencyBuckets,
		}, []string{"operation"}),
	}
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "redis_errors_total",
		Help: "Failed Redis backend operations by kind (timeout, connection, script, circuit_open, other).",
	}, []string{"kind"})
	for i, kind := range rate.ErrorKinds {
		obs.errs[i] = errs.WithLabelValues(string(kind)) // every kind exists from the start, at 0
	}
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "memory_evictions_total",
		Help: "Keys the memory backend forgot: expired (back to a fresh key's state) or lru (live keys evicted from a full store, each handing its client a fresh quota).",
	}, []string{"reason"})
	for i, reason := range evictionReasons {
		obs.evictions[i] = evictions.WithLabelValues(reason)
	}
	keys := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Name: "memory_keys",
		Help: "Keys the memory backend holds (0 when it is not in use).",
	}, func() float64 {
		if count := obs.memoryKeys.Load(); count != nil {
			return float64((*count)())
		}
		return 0
	})
	obs.series.Store(&map[string]*ruleSeries{})
	obs.ops.Store(&map[string]prometheus.Observer{})

	collectors := []prometheus.Collector{obs.requests, obs.exceeded, obs.latency, errs, evictions, keys}
	if topN > 0 {
		obs.top = newTopClients(ns, topN, o.now)
		collectors = append(collectors, obs.top)
	}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("ratewarden: promlimit: registering metrics: %w", err)
		}
	}
	return obs, nil
}

// ObserveDecision counts d in requests_total (and exceeded_total for a denial) and, for a
// request that was counted against a window, updates the client's usage for
// current_usage. Decisions of a disabled limiter are ignored. It implements
// [core.Observer].
func (o *Observer) ObserveDecision(d *core.Decision) {
	if int(d.Outcome) >= len(decisionOf) {
		return
	}
	dec := decisionOf[d.Outcome]
	if dec < 0 {
		return
	}
	r, t := o.seriesFor(d.Rule(), d.TierLabel())
	t.requests[dec].Inc()
	if dec == decDenied {
		t.exceeded.Inc()
	}
	if o.top != nil && d.Limited() {
		o.top.observe(d, r.hash)
	}
}

// ObserveBackend times a backend operation in redis_latency_seconds and, when errKind is
// not empty, counts it in redis_errors_total. Calls that failed with "circuit_open" never
// reached Redis and are counted but not timed. It implements [core.Observer].
func (o *Observer) ObserveBackend(operation string, took time.Duration, errKind rate.ErrorKind) {
	if errKind != "" {
		o.errs[kindIndex(errKind)].Inc()
		if errKind == rate.KindCircuitOpen {
			return
		}
	}
	o.opFor(operation).Observe(took.Seconds())
}

// WatchKeys makes memory_keys read count when metrics are collected. The memory store
// calls it when it is built; it implements core/backend.MemoryObserver.
func (o *Observer) WatchKeys(count func() int) { o.memoryKeys.Store(&count) }

// ObserveEvictions counts n keys the memory store forgot for reason ("expired" or "lru") in
// memory_evictions_total; it implements core/backend.MemoryObserver.
func (o *Observer) ObserveEvictions(reason string, n int) {
	for i, r := range evictionReasons {
		if r == reason {
			o.evictions[i].Add(float64(n))
		}
	}
}

// validNamespace reports whether ns is a metric name prefix in the classic character set
// (as metrics.namespace is validated by core), so names need no UTF-8 quoting.
func validNamespace(ns string) bool {
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return ns != ""
}

// kindIndex is the index of kind in rate.ErrorKinds; a kind the store reports that is not
// one of them is counted as rate.KindOther, so the label stays bounded.
func kindIndex(kind rate.ErrorKind) int {
	for i, k := range rate.ErrorKinds {
		if k == kind {
			return i
		}
	}
	return len(rate.ErrorKinds) - 1
}

// seriesFor returns the cached series of (rule, tier), creating them on first sight: all
// five decisions at once, so that every decision of a pair that has been seen exists (at
// 0) and rate() and alerts need no absent() guards. A rule has a handful of tiers, and
// comparing them is cheaper than hashing a second string.
func (o *Observer) seriesFor(rule, tier string) (*ruleSeries, *tierSeries) {
	if r, ok := (*o.series.Load())[rule]; ok {
		for _, t := range r.tiers {
			if t.tier == tier {
				return r, t
			}
		}
	}
	return o.addSeries(rule, tier)
}

func (o *Observer) addSeries(rule, tier string) (*ruleSeries, *tierSeries) {
	o.seriesMu.Lock()
	defer o.seriesMu.Unlock()
	old := *o.series.Load()
	r := old[rule]
	if r != nil {
		for _, t := range r.tiers {
			if t.tier == tier {
				return r, t
			}
		}
	}
	// The strings may belong to a request (a token's tier claim); keep copies.
	rule, tier = strings.Clone(rule), strings.Clone(tier)
	t := &tierSeries{tier: tier, exceeded: o.exceeded.WithLabelValues(rule, tier)}
	for i, name := range decisionNames {
		t.requests[i] = o.requests.WithLabelValues(rule, tier, name)
	}
	next := &ruleSeries{hash: hashRule(rule)}
	if r != nil {
		next.tiers = append(next.tiers, r.tiers...)
	}
	next.tiers = append(next.tiers, t)
	m := make(map[string]*ruleSeries, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[rule] = next
	o.series.Store(&m)
	return next, t
}

func (o *Observer) opFor(operation string) prometheus.Observer {
	if h, ok := (*o.ops.Load())[operation]; ok {
		return h
	}
	o.opsMu.Lock()
	defer o.opsMu.Unlock()
	old := *o.ops.Load()
	if h, ok := old[operation]; ok {
		return h
	}
	operation = strings.Clone(operation)
	h := o.latency.WithLabelValues(operation)
	next := make(map[string]prometheus.Observer, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[operation] = h
	o.ops.Store(&next)
	return h
}
