package core_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestANilDecisionReadsAsTheZeroDecision: a handler that a skipper let through gets
// (nil, false) from FromContext; reading the nil decision must not panic.
func TestANilDecisionReadsAsTheZeroDecision(t *testing.T) {
	t.Parallel()
	var d *core.Decision
	assert.NotPanics(t, func() {
		assert.True(t, d.Proceed(), "nothing stops the request")
		assert.False(t, d.Limited())
		assert.Empty(t, d.ClientID())
		assert.Empty(t, d.CountedID())
		assert.False(t, d.CountsResponse())
		d.Complete(context.Background(), http.StatusUnauthorized)
		assert.Equal(t, core.TierOther, d.TierLabel())
		_, _, ok := d.Binding()
		assert.False(t, ok)
		assert.Zero(t, d.Limit())
		assert.Zero(t, d.Remaining())
		assert.True(t, d.Reset().IsZero())
		assert.Zero(t, d.RetryAfter())
		h := http.Header{}
		d.WriteHeaders(h)
		assert.Empty(t, h)
		rec := httptest.NewRecorder()
		d.WriteResponse(rec)
		assert.False(t, rec.Flushed)
		assert.Empty(t, rec.Header())
		assert.Zero(t, rec.Body.Len())
	})
	var zero core.Decision
	assert.NotPanics(t, func() {
		assert.Equal(t, core.TierOther, zero.TierLabel())
		assert.Empty(t, zero.ClientID())
		assert.True(t, zero.Reset().IsZero())
	})

	// Every exported method, those added later included, is called on nil.
	args := map[reflect.Type]reflect.Value{
		reflect.TypeFor[context.Context]():     reflect.ValueOf(context.Background()),
		reflect.TypeFor[int]():                 reflect.ValueOf(http.StatusOK),
		reflect.TypeFor[http.Header]():         reflect.ValueOf(http.Header{}),
		reflect.TypeFor[http.ResponseWriter](): reflect.ValueOf(httptest.NewRecorder()),
	}
	typ := reflect.TypeFor[*core.Decision]()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		in := []reflect.Value{reflect.ValueOf(d)}
		for j := 1; j < m.Type.NumIn(); j++ {
			a, ok := args[m.Type.In(j)]
			require.Truef(t, ok, "Decision.%s takes a %s: give the test a value of it", m.Name, m.Type.In(j))
			in = append(in, a)
		}
		assert.NotPanicsf(t, func() { m.Func.Call(in) }, "Decision.%s on nil", m.Name)
	}
}

// TestANamedLimiterPrefixesItsPolicies: WithName tells stacked limiters apart in
// headers, bodies and logs, and keeps their counters apart on a shared store.
func TestANamedLimiterPrefixesItsPolicies(t *testing.T) {
	t.Parallel()
	cfg := config.Config{
		Default:   config.Limits{Limit: 2, Window: time.Minute},
		Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/compute", Limits: config.Limits{Windows: []config.WindowConfig{{Limit: 5, Window: time.Minute}, {Limit: 50, Window: time.Hour}}}}},
	}
	h := newHarness(t, cfg, core.WithName("search"))
	d := h.decide(request{path: "/compute"})
	assert.Equal(t, "search.compute", d.Rule())
	hdr := http.Header{}
	d.WriteHeaders(hdr)
	assert.Equal(t, `"search.compute";q=5;w=60,"search.compute-3600";q=50;w=3600`, hdr.Get("RateLimit-Policy"))
	assert.Equal(t, `"search.compute";r=4;t=12`, hdr.Get("RateLimit"))

	h.decideN(2, request{path: "/x"})
	d = h.decide(request{path: "/x"})
	require.Equal(t, core.Denied, d.Outcome)
	rec := httptest.NewRecorder()
	d.WriteResponse(rec)
	body := decodeJSON(t, rec.Body.Bytes())
	assert.Equal(t, "search.default", body["policy"])
	assert.Equal(t, "search.default", body["limits_exceeded"].([]any)[0].(map[string]any)["policy"])
	assert.Contains(t, h.log.String(), `"limiter":"search"`)
	assert.Contains(t, h.log.String(), `"rule":"search.default"`)

	// An unnamed limiter on the same store counts the same client in counters of its own.
	other, err := core.New(cfg, core.WithStore(h.store), core.WithClock(h.clock.Now))
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.RemoteAddr = "203.0.113.7:1"
	var od core.Decision
	other.Decide(core.Input{Request: req}, &od)
	assert.Equal(t, core.Allowed, od.Outcome)
	assert.Equal(t, "default", od.Rule())
	assert.EqualValues(t, 1, od.Remaining())

	// A reload keeps the prefix and the counters.
	require.NoError(t, h.lim.Reload(cfg))
	assert.Equal(t, core.Denied, h.decide(request{path: "/x"}).Outcome)

	// Nor does an unnamed limiter whose rule is called "search.default" meet its counter:
	// a review saw it denied after the named limiter spent its default counter.
	dotted := config.Config{Endpoints: []config.Endpoint{{Name: "search.default", Pattern: "/x", Limits: config.Limits{Limit: 2, Window: time.Minute}}}}
	third, err := core.New(dotted, core.WithStore(h.store), core.WithClock(h.clock.Now))
	require.NoError(t, err)
	od = core.Decision{}
	third.Decide(core.Input{Request: req}, &od)
	assert.Equal(t, "search.default", od.Rule())
	assert.Equal(t, core.Allowed, od.Outcome)
	assert.EqualValues(t, 1, od.Remaining())
}

func TestWithNameRejectsNamesThatCannotAppearInHeaders(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a b", `x"y`, "ü"} {
		_, err := core.New(config.Config{}, core.WithStore(adaptertest.NewStore()), core.WithName(name))
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "ratewarden: WithName: must match"), err.Error())
		assert.Contains(t, err.Error(), `got "`)
	}
}
