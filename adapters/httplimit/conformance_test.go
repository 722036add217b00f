package httplimit_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestConformance runs the adapter suite against the net/http middleware in front of a
// http.ServeMux, the same cases the gin, echo and chi adapters pass.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, serveMux(true))
}

// TestConformanceWithoutRouteFunc runs the suite against the middleware as it comes,
// without the route templates WithRouteFunc adds: the rules see the path's segments as
// the ServeMux does.
func TestConformanceWithoutRouteFunc(t *testing.T) {
	adaptertest.Run(t, serveMux(false))
}

// serveMux mounts the routes of the suite on a http.ServeMux behind the middleware, told
// the mux's route templates when withRoutes is set.
func serveMux(withRoutes bool) adaptertest.Mount {
	return func(t *testing.T, cfg config.Config, opts ...core.Option) http.Handler {
		mux := http.NewServeMux()
		for _, rt := range adaptertest.Routes {
			mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
				switch rt.Kind {
				case adaptertest.OK:
					d, ok := httplimit.FromContext(r.Context())
					adaptertest.WriteReply(w, rt, d, ok)
				case adaptertest.Fail:
					adaptertest.WriteFail(w)
				case adaptertest.Panic:
					panic("adaptertest: handler panicked")
				case adaptertest.Named:
					if httplimit.Allow(w, r, adaptertest.NamedRule, adaptertest.NamedKey(r)) {
						d, ok := httplimit.FromContext(r.Context())
						adaptertest.WriteReply(w, rt, d, ok)
					}
				}
			})
		}
		opt := []httplimit.Option{httplimit.WithCoreOptions(opts...)}
		if withRoutes {
			// The ServeMux knows a request's pattern ("GET /api/v1/users/{id}") before it
			// routes it; rules see the path part.
			opt = append(opt, httplimit.WithRouteFunc(func(r *http.Request) string {
				_, pattern := mux.Handler(r)
				_, path, _ := strings.Cut(pattern, " ")
				return path
			}))
		}
		opt = append(opt, httplimit.WithSkipper(adaptertest.Skip))
		return recoverer(httplimit.New(cfg, opt...)(mux))
	}
}

// recoverer answers 500 for a handler that panics, as frameworks' recovery middleware do.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// A nil hook is the default answer, also when it replaces an earlier hook.
func TestNilHooksAnswerByDefault(t *testing.T) {
	t.Parallel()
	h := httplimit.New(config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}},
		httplimit.WithCoreOptions(core.WithLogger(slog.New(slog.DiscardHandler))),
		httplimit.WithDeniedHandler(func(w http.ResponseWriter, _ *http.Request, _ *core.Decision) { w.WriteHeader(http.StatusTeapot) }),
		httplimit.WithDeniedHandler(nil), httplimit.WithErrorHandler(nil),
	)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	adaptertest.Serve(h, http.MethodGet, "/api", "203.0.113.7:1")
	rec := adaptertest.Serve(h, http.MethodGet, "/api", "203.0.113.7:1")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Contains(t, rec.Body.String(), `"error":"rate_limit_exceeded"`)
}
