package httplimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/httplimit"
)

// nopStore admits everything; the reload handler never consults the store.
type nopStore struct{}

func (nopStore) Take(_ context.Context, _ *core.Request, res *core.Result) error {
	res.Allowed = true
	return nil
}
func (nopStore) Close() error { return nil }

func TestReloadHandler(t *testing.T) {
	t.Parallel()
	withToken := core.Config{Admin: core.AdminConfig{Token: "s3cret"}}
	tests := []struct {
		name     string
		current  core.Config
		load     func() (core.Config, error)
		method   string
		auth     string
		status   int
		contains string
	}{
		{"no token configured", core.Config{}, nil, "POST", "Bearer x", 404, ""},
		{"no credentials", withToken, nil, "POST", "", 401, "unauthorized"},
		{"wrong token", withToken, nil, "POST", "Bearer wrong", 401, "unauthorized"},
		{"wrong scheme", withToken, nil, "POST", "Basic s3cret", 401, "unauthorized"},
		{"wrong method", withToken, nil, "GET", "Bearer s3cret", 405, ""},
		{"invalid configuration", withToken, func() (core.Config, error) { return core.Config{Mode: "loud"}, nil }, "POST", "Bearer s3cret", 422, `mode: must be`},
		{"unreadable configuration", withToken, func() (core.Config, error) { return core.Config{}, errors.New("no such file") }, "POST", "Bearer s3cret", 500, "reload_failed"},
		{"success", withToken, func() (core.Config, error) { return withToken, nil }, "POST", "Bearer s3cret", 200, `{"status":"reloaded"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim, err := core.New(tt.current, core.WithStore(nopStore{}))
			require.NoError(t, err)
			req := httptest.NewRequest(tt.method, "/admin/reload", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			httplimit.ReloadHandler(lim, tt.load).ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), tt.contains)
		})
	}
}

func TestReloadHandlerSwapsTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg := core.Config{Admin: core.AdminConfig{Token: "s3cret"}}
	lim, err := core.New(cfg, core.WithStore(nopStore{}))
	require.NoError(t, err)
	next := cfg
	next.Default.Limit = 7
	req := httptest.NewRequest(http.MethodPost, "/admin/reload", strings.NewReader(""))
	req.Header.Set("Authorization", "Bearer s3cret")
	rec := httptest.NewRecorder()
	httplimit.ReloadHandler(lim, func() (core.Config, error) { return next, nil }).ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, int64(7), lim.Config().Default.Limit)
}
