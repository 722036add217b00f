package adapter_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
)

type ctx struct{ route, key string }

func TestInputTakesTheOptionsRouteAndKey(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/users/7", nil)
	o := adapter.Collect[ctx](core.PathSegmentsUnescaped, nil)
	assert.Equal(t, core.Input{Request: r, Route: "/users/:id"}, o.Input(ctx{}, r, "/users/:id"))
	assert.False(t, o.Skip(ctx{}))

	o = adapter.Collect(core.PathSegmentsUnescaped, []adapter.Option[ctx]{
		adapter.WithRouteFunc(func(c ctx) string { return "first" }),
		adapter.WithRouteFunc(func(c ctx) string { return c.route }), // the later one wins
		adapter.WithKeyFunc(func(c ctx) string { return c.key }),
		adapter.WithSkipper(func(c ctx) bool { return c.key == "skip" }),
	})
	assert.Equal(t, core.Input{Request: r, Route: "/users/{id}", Key: "k"},
		o.Input(ctx{route: "/users/{id}", key: "k"}, r, "/users/:id"))
	assert.True(t, o.Skip(ctx{key: "skip"}))
}

// The adapter's path view reaches core unless WithPathView replaces it.
func TestInputTakesThePathViewOfTheRouter(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/users/m%65", nil)
	assert.Equal(t, core.PathDecoded, adapter.Collect[ctx](core.PathDecoded, nil).Input(ctx{}, r, "").PathView)
	o := adapter.Collect(core.PathDecoded, []adapter.Option[ctx]{adapter.WithPathView[ctx](core.PathSegmentsRaw)})
	assert.Equal(t, core.PathSegmentsRaw, o.Input(ctx{}, r, "").PathView)
}

func TestRespondCallsTheHookOfTheOutcome(t *testing.T) {
	errDenied := errors.New("denied hook")
	var calls []string
	o := adapter.Collect(core.PathSegmentsUnescaped, []adapter.Option[ctx]{
		adapter.WithDeniedHandler(func(ctx, http.ResponseWriter, *core.Decision) error {
			calls = append(calls, "denied")
			return errDenied
		}),
		adapter.WithErrorHandler(func(ctx, http.ResponseWriter, *core.Decision) error {
			calls = append(calls, "unavailable")
			return nil
		}),
	})
	w := httptest.NewRecorder()
	require.ErrorIs(t, o.Respond(ctx{}, w, &core.Decision{Outcome: core.Denied}), errDenied)
	require.NoError(t, o.Respond(ctx{}, w, &core.Decision{Outcome: core.Unavailable}))
	assert.Equal(t, []string{"denied", "unavailable"}, calls)
	assert.Equal(t, 0, w.Body.Len(), "a hook answers instead of the default response")
}

func TestRespondWritesTheDefaultAnswerWithoutHooks(t *testing.T) {
	w := httptest.NewRecorder()
	require.NoError(t, adapter.Collect[ctx](core.PathSegmentsUnescaped, nil).Respond(ctx{}, w, &core.Decision{Outcome: core.Unavailable}))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
}

// A nil hook means the default answer: an adapter's WithDeniedHandler(nil) after an
// earlier hook undoes it rather than calling nil on every denial (an attack review).
func TestANilHookMeansTheDefaultAnswer(t *testing.T) {
	o := adapter.Collect(core.PathSegmentsUnescaped, []adapter.Option[ctx]{
		adapter.WithDeniedHandler(func(ctx, http.ResponseWriter, *core.Decision) error { return errors.New("hook") }),
		adapter.WithDeniedHandler[ctx](nil),
	})
	w := httptest.NewRecorder()
	require.NoError(t, o.Respond(ctx{}, w, &core.Decision{Outcome: core.Denied}))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
}
