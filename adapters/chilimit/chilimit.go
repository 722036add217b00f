package chilimit

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// New builds a Limiter from cfg and returns its middleware. It panics with the
// configuration's validation error when cfg is invalid, like regexp.MustCompile: a
// misconfiguration fails at start, never per request. Use [Middleware] with a Limiter of
// your own to handle that error, to reload the configuration, or to close the Limiter.
func New(cfg config.Config, opts ...Option) func(http.Handler) http.Handler {
	return httplimit.New(cfg, withRoutes(opts)...)
}

// Middleware returns chi middleware that limits requests with lim: net/http's
// ([httplimit.Middleware]), told chi's route pattern of each request. It is safe for
// concurrent use, as lim is; denials and backend failures are answered as there.
func Middleware(lim *core.Limiter, opts ...Option) func(http.Handler) http.Handler {
	return httplimit.Middleware(lim, withRoutes(opts)...)
}

// withRoutes puts chi's route pattern and path view first, so that an option of the
// caller's may replace them. chi routes url.URL.RawPath when it is set, comparing the
// segments as sent: "/users/m%65" is served by "/users/{id}", not "/users/me".
func withRoutes(opts []Option) []Option {
	return append([]Option{httplimit.WithRouteFunc(routePattern), httplimit.WithPathView(core.PathSegmentsRaw)}, opts...)
}

// Allow is [httplimit.Allow]: it decides r again from inside its handler, under the rule
// named rule and counted under key, and answers 429 itself when r may not proceed.
func Allow(w http.ResponseWriter, r *http.Request, rule, key string) bool {
	return httplimit.Allow(w, r, rule, key)
}

// FromContext returns the decision the middleware made for the request whose context is
// ctx (r.Context() in a handler). ok is false when no ratewarden middleware decided the
// request (or a skipper let it through). With several limiters on one route, it is the
// last one's.
func FromContext(ctx context.Context) (d *core.Decision, ok bool) { return core.FromContext(ctx) }

// routePattern returns the chi route pattern r matches ("/api/v1/users/{id}"), or "" when
// r is not served by a chi router or matches no route. Unlike
// chi.RouteContext(ctx).RoutePattern(), it is complete before routing has finished: in
// middleware added with r.Use it looks the request up in the root router.
func routePattern(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return ""
	}
	if p := rctx.RoutePattern(); p != "" && !strings.HasSuffix(p, "*") {
		return p // routed already: r.With, r.Group, or a sub-router's route
	}
	if rctx.Routes == nil {
		return ""
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	lookup := lookups.Get().(*chi.Context)
	lookup.Reset()
	p := rctx.Routes.Find(lookup, r.Method, path)
	lookups.Put(lookup)
	return p
}

// lookups are the routing contexts routePattern searches with, reused so that a lookup
// does not allocate.
var lookups = sync.Pool{New: func() any { return chi.NewRouteContext() }}
