package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// harness is a Limiter over an adaptertest.Store with a test clock and a captured JSON log.
type harness struct {
	lim   *core.Limiter
	store *adaptertest.Store
	clock *adaptertest.Clock
	log   *bytes.Buffer
}

func newHarness(t *testing.T, cfg config.Config, opts ...core.Option) *harness {
	t.Helper()
	h := &harness{store: adaptertest.NewStore(), clock: adaptertest.NewClock(), log: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: h.log}, nil))
	opts = append([]core.Option{core.WithStore(h.store), core.WithClock(h.clock.Now), core.WithLogger(logger)}, opts...)
	lim, err := core.New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lim.Close() })
	h.lim = lim
	return h
}

// request describes one request of a test.
type request struct {
	method, path, route, remote, key string
	header                           http.Header
}

func (h *harness) decide(r request) *core.Decision {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.remote == "" {
		r.remote = "203.0.113.7:41000"
	}
	req := httptest.NewRequest(r.method, r.path, nil)
	req.RemoteAddr = r.remote
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	d := new(core.Decision)
	h.lim.Decide(core.Input{Request: req, Route: r.route, Key: r.key}, d)
	return d
}

// decideN decides n identical requests and returns the last decision.
func (h *harness) decideN(n int, r request) *core.Decision {
	var d *core.Decision
	for i := 0; i < n; i++ {
		d = h.decide(r)
	}
	return d
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var errBackendDown = errors.New("backend down")

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}
