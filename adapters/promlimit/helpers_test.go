package promlimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/promlimit"
	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// testSecret is an HS256 secret of at least 32 bytes.
const testSecret = "0123456789abcdef0123456789abcdef-promlimit"

// env is a real limiter over the memory store (or a store wrapping it), observed by a
// promlimit.Observer registered on a fresh registry, with a test clock and a captured
// JSON log at debug level.
type env struct {
	t     *testing.T
	reg   *prometheus.Registry
	obs   *promlimit.Observer
	lim   *core.Limiter
	clock *adaptertest.Clock
	log   *syncBuffer
}

type envConfig struct {
	store func(mem rate.Store) rate.Store // wraps the memory store; nil = the memory store
}

func newEnv(t *testing.T, cfg config.Config, ec envConfig) *env {
	t.Helper()
	e := &env{t: t, reg: prometheus.NewRegistry(), clock: adaptertest.NewClock(), log: &syncBuffer{}}
	obs, err := promlimit.New(e.reg, cfg.Metrics, promlimit.WithClock(e.clock.Now))
	require.NoError(t, err)
	e.obs = obs
	mem := memorystore.New(config.MemoryConfig{}, memorystore.WithClock(e.clock.Now))
	t.Cleanup(func() { _ = mem.Close() })
	var store rate.Store = mem
	if ec.store != nil {
		store = ec.store(mem)
	}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	lim, err := core.New(cfg, core.WithStore(store), core.WithObserver(obs), core.WithClock(e.clock.Now), core.WithLogger(logger))
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })
	e.lim = lim
	return e
}

// req describes one request.
type req struct {
	method, path, remote, auth string
	key                        string // a custom key (scope "key")
}

func (e *env) do(r req) *core.Decision {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.path == "" {
		r.path = "/api/v1/test"
	}
	if r.remote == "" {
		r.remote = "203.0.113.7:41000"
	}
	hr := httptest.NewRequest(r.method, r.path, nil)
	hr.RemoteAddr = r.remote
	if r.auth != "" {
		hr.Header.Set("Authorization", r.auth)
	}
	d := new(core.Decision)
	e.lim.Decide(core.Input{Request: hr, Key: r.key}, d)
	return d
}

func (e *env) doN(n int, r req) *core.Decision {
	var d *core.Decision
	for range n {
		d = e.do(r)
	}
	return d
}

func (e *env) bearer(claims jwt.MapClaims) string {
	e.t.Helper()
	claims["exp"] = e.clock.Now().Add(time.Hour).Unix()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	require.NoError(e.t, err)
	return "Bearer " + s
}

// sample is one series of a gathered family.
type sample struct {
	labels map[string]string
	value  float64 // counter or gauge value; histogram sample count
}

func gather(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	byName := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	return byName
}

func samples(t *testing.T, reg prometheus.Gatherer, name string) []sample {
	t.Helper()
	mf := gather(t, reg)[name]
	if mf == nil {
		return nil
	}
	var out []sample
	for _, m := range mf.GetMetric() {
		s := sample{labels: map[string]string{}}
		for _, lp := range m.GetLabel() {
			s.labels[lp.GetName()] = lp.GetValue()
		}
		switch {
		case m.Counter != nil:
			s.value = m.GetCounter().GetValue()
		case m.Gauge != nil:
			s.value = m.GetGauge().GetValue()
		case m.Histogram != nil:
			s.value = float64(m.GetHistogram().GetSampleCount())
		}
		out = append(out, s)
	}
	return out
}

// values maps each series of name to its value, keyed by the values of keyLabels joined
// with "/": values(reg, "ratelimit_requests_total", "decision") → {"allowed": 3, …}.
// Series whose other labels differ from match are skipped.
func values(t *testing.T, reg prometheus.Gatherer, name string, match map[string]string, keyLabels ...string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
next:
	for _, s := range samples(t, reg, name) {
		for k, v := range match {
			if s.labels[k] != v {
				continue next
			}
		}
		parts := make([]string, len(keyLabels))
		for i, l := range keyLabels {
			parts[i] = s.labels[l]
		}
		out[strings.Join(parts, "/")] = s.value
	}
	return out
}

// usage returns ratelimit_current_usage as client → value, for one rule.
func usage(t *testing.T, reg prometheus.Gatherer, rule string) map[string]float64 {
	t.Helper()
	return values(t, reg, "ratelimit_current_usage", map[string]string{"rule": rule}, "client")
}

func labelNames(mf *dto.MetricFamily) []string {
	var names []string
	if len(mf.GetMetric()) == 0 {
		return nil
	}
	for _, lp := range mf.GetMetric()[0].GetLabel() {
		names = append(names, lp.GetName())
	}
	sort.Strings(names)
	return names
}

// failingStore fails every decision, like a Redis store whose server is down.
type failingStore struct{}

var errBackendDown = errors.New("backend down")

func (failingStore) Take(context.Context, *rate.Request, *rate.Result) error {
	return errBackendDown
}
func (failingStore) Reset(context.Context, string, []time.Duration) error {
	return errBackendDown
}
func (failingStore) Close() error { return nil }

// fallbackStore decides with the memory store and marks each result as decided locally,
// like the Redis store with fail_mode = "local" during an outage.
type fallbackStore struct{ rate.Store }

func (s fallbackStore) Take(ctx context.Context, r *rate.Request, res *rate.Result) error {
	err := s.Store.Take(ctx, r, res)
	res.Fallback = true
	return err
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Take returns what was written so far and empties the buffer.
func (b *syncBuffer) Take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// allSamples returns the series of every family, each with its family's name in
// labels["__name__"].
func allSamples(t *testing.T, reg prometheus.Gatherer) []sample {
	t.Helper()
	var out []sample
	for name := range gather(t, reg) {
		for _, s := range samples(t, reg, name) {
			s.labels["__name__"] = name
			out = append(out, s)
		}
	}
	return out
}
