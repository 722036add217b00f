package benchmarks

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// The floor of BenchmarkMiddleware: a middleware that does only what the contract costs
// before any of ratewarden's own work. Like ratewarden's Gate, it copies the request with
// a context that holds a core.Decision and the header values, in one allocation (a
// handler reaches this one through the context's Value, under the floor's own key); it
// takes one decision from the memory store, at the time of a core.CoarseClock (the clock
// a core.Limiter reads), on a key made in advance; it sets the Decision's Outcome and the
// six headers of ratewarden's default configuration, to constant values. It resolves no
// client IP, matches no rule, builds no key, fills no other field of the Decision and
// formats no value: ratewarden's overhead minus the floor's is what those cost. mw=floor
// is an instrument, not a limiter: the report (benchmarks/report) gives its overhead in
// the explanation of each middleware target, and lists it in no table.

// floorHeaders are the six headers of ratewarden's default configuration, canonical.
var floorHeaders = [6]string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset",
	"X-Ratelimit-Used", "Ratelimit", "Ratelimit-Policy"}

// floorContext is the floor's one allocation per request: the request's context with the
// decision, the request copy that carries it, and the header values.
type floorContext struct {
	context.Context
	d      core.Decision
	req    http.Request
	values [len(floorHeaders)]string
}

type floorKey struct{}

func (c *floorContext) Value(key any) any {
	if key == (floorKey{}) {
		return &c.d
	}
	return c.Context.Value(key)
}

// floor is the floor middleware's state: the memory store, the policy and each client's
// key (by RemoteAddr), made before the benchmark.
type floor struct {
	store  *memorystore.Store
	policy *rate.Policy
	clock  core.CoarseClock
	keys   map[string]string
}

func newFloor(b *testing.B) *floor {
	p, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: mwLimit, Period: time.Minute, Name: "default"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	f := &floor{store: memorystore.New(config.MemoryConfig{}), policy: p, keys: map[string]string{}}
	b.Cleanup(func() {
		f.clock.Stop()
		_ = f.store.Close()
	})
	for _, r := range mwRequests() {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			b.Fatal(err)
		}
		f.keys[r.RemoteAddr] = "ip:" + host + ":default" // ratewarden's key of the client
	}
	return f
}

// gate is the floor's work on a request: the request copy it returns, the decision and
// the headers on h.
func (f *floor) gate(r *http.Request, h http.Header) *http.Request {
	fc := &floorContext{Context: r.Context()}
	fc.req = *r.WithContext(fc)
	var res rate.Result
	if err := f.store.Take(context.Background(), &rate.Request{Key: f.keys[r.RemoteAddr], Policy: f.policy, Cost: 1, Now: f.clock.Now()}, &res); err != nil || !res.Allowed {
		panic("floor: the memory store denied a request under a limit no client nears")
	}
	fc.d.Outcome = core.Allowed
	for i, name := range floorHeaders {
		fc.values[i] = "50000000"
		h[name] = fc.values[i : i+1 : i+1]
	}
	return &fc.req
}

func (f *floor) gin(c *gin.Context) { c.Request = f.gate(c.Request, c.Writer.Header()) }

func (f *floor) echo(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.SetRequest(f.gate(c.Request(), c.Response().Header()))
		return next(c)
	}
}

func (f *floor) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, f.gate(r, w.Header()))
	})
}
