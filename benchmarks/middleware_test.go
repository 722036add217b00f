package benchmarks

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/didip/tollbooth/v7"
	tollboothlimiter "github.com/didip/tollbooth/v7/limiter"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
	"github.com/labstack/echo/v4"
	ulule "github.com/ulule/limiter/v3"
	ululegin "github.com/ulule/limiter/v3/drivers/middleware/gin"
	ululestdlib "github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/ratewarden/ratewarden/adapters/chilimit"
	"github.com/ratewarden/ratewarden/adapters/echolimit"
	"github.com/ratewarden/ratewarden/adapters/ginlimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// The middleware comparison: on each router, the same route and handler (a tiny JSON
// body) served bare and behind each library's middleware, in memory, with a limit no
// client comes near (50,000,000 per minute), from the same 8 client addresses in turn.
// The overhead of a middleware is its row minus the router's bare row.
const (
	mwLimit  = 50_000_000 // per minute
	mwRoute  = "/api/v1/users/42"
	mwJSON   = "application/json; charset=utf-8"
	mwStatus = http.StatusOK
)

var mwBody = []byte(`{"id":"42","name":"ada"}`)

// mwVariant is one way of serving the route: bare or behind a library's middleware.
type mwVariant struct {
	name string
	// limited is the header the middleware sets on an admitted request ("" for bare):
	// the benchmark checks it before timing, so a middleware that silently did nothing
	// would fail rather than look fast.
	limited string
	build   func(b *testing.B) http.Handler
}

// BenchmarkMiddleware serves GET /api/v1/users/42 through gin, echo and chi, bare and
// behind ratewarden's adapter, ulule/limiter's middleware and tollbooth's (and, on chi,
// go-chi/httprate's), all on their memory stores (SPEC section 9, middleware overhead),
// and behind the floor (floor_test.go), which measures what the contract costs before
// ratewarden's own work. Every variant serves through the same reused ResponseWriter,
// whose header map is cleared between requests.
func BenchmarkMiddleware(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	routers := []struct {
		name     string
		variants []mwVariant
	}{
		{"gin", ginVariants()},
		{"echo", echoVariants()},
		{"chi", chiVariants()},
	}
	for _, r := range routers {
		b.Run("router="+r.name, func(b *testing.B) {
			for _, v := range r.variants {
				b.Run("mw="+v.name, func(b *testing.B) {
					h := v.build(b)
					checkServe(b, h, v.limited)
					mwServe(b, h)
				})
			}
		})
	}
}

// mwServe serves the route from 8 client addresses in turn.
func mwServe(b *testing.B, h http.Handler) {
	reqs := mwRequests()
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clear(w.header)
		h.ServeHTTP(w, reqs[i%len(reqs)])
	}
}

func mwRequests() []*http.Request {
	reqs := make([]*http.Request, 8)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, mwRoute, nil)
		reqs[i].RemoteAddr = fmt.Sprintf("203.0.113.%d:41000", i+1)
	}
	return reqs
}

// checkServe serves one request of each client and checks the answer: 200, the JSON body
// and, behind a middleware, its rate-limit header.
func checkServe(b *testing.B, h http.Handler, header string) {
	b.Helper()
	for _, req := range mwRequests() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != mwStatus || rec.Body.String() != string(mwBody) {
			b.Fatalf("GET %s from %s: %d %q", mwRoute, req.RemoteAddr, rec.Code, rec.Body)
		}
		if header != "" && rec.Header().Get(header) == "" {
			b.Fatalf("GET %s from %s: no %s header: %v", mwRoute, req.RemoteAddr, header, rec.Header())
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its header map, reused.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// ratewardenLimiter is the Limiter behind every ratewarden variant: one default rule, the
// memory backend and the default headers (X-RateLimit-Limit, -Remaining, -Reset, -Used,
// RateLimit and RateLimit-Policy). It is what the adapters' New builds, here closed at
// the end of the benchmark.
func ratewardenLimiter(b *testing.B) *core.Limiter {
	cfg := config.Config{Default: config.Limits{Limit: mwLimit, Window: time.Minute}}
	lim, err := core.New(cfg, core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = lim.Close() })
	return lim
}

// ululeLimiter is ulule/limiter on its memory store, keyed by client IP; its middlewares
// set X-RateLimit-Limit, -Remaining and -Reset.
func ululeLimiter() *ulule.Limiter {
	return ulule.New(ululemem.NewStore(), ulule.Rate{Period: time.Minute, Limit: mwLimit})
}

// tollboothLimiter is tollbooth's limiter (per second, a token bucket of x/time/rate per
// client IP and path), reading the client from RemoteAddr only as the others do; it sets
// X-Rate-Limit-Limit, -Duration, -Request-Remote-Addr and RateLimit-Limit, -Reset and
// -Remaining.
func tollboothLimiter() *tollboothlimiter.Limiter {
	return tollbooth.NewLimiter(mwLimit/60, nil).SetIPLookups([]string{"RemoteAddr"})
}

func ginVariants() []mwVariant {
	router := func(mw ...gin.HandlerFunc) http.Handler {
		r := gin.New()
		r.Use(mw...)
		r.GET("/api/v1/users/:id", func(c *gin.Context) { c.Data(mwStatus, mwJSON, mwBody) })
		return r
	}
	return []mwVariant{
		{"bare", "", func(*testing.B) http.Handler { return router() }},
		{"ratewarden", "X-RateLimit-Limit", func(b *testing.B) http.Handler {
			return router(ginlimit.Middleware(ratewardenLimiter(b)))
		}},
		{"floor", "X-RateLimit-Limit", func(b *testing.B) http.Handler { return router(newFloor(b).gin) }},
		{"ulule", "X-RateLimit-Limit", func(*testing.B) http.Handler {
			return router(ululegin.NewMiddleware(ululeLimiter()))
		}},
		{"tollbooth", "RateLimit-Limit", func(*testing.B) http.Handler {
			// tollbooth has no gin driver of its own: the usual few lines around
			// LimitByRequest.
			lmt := tollboothLimiter()
			return router(func(c *gin.Context) {
				if err := tollbooth.LimitByRequest(lmt, c.Writer, c.Request); err != nil {
					c.Data(err.StatusCode, lmt.GetMessageContentType(), []byte(err.Message))
					c.Abort()
					return
				}
				c.Next()
			})
		}},
	}
}

func echoVariants() []mwVariant {
	router := func(mw ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.Use(mw...)
		e.GET("/api/v1/users/:id", func(c echo.Context) error { return c.Blob(mwStatus, mwJSON, mwBody) })
		return e
	}
	return []mwVariant{
		{"bare", "", func(*testing.B) http.Handler { return router() }},
		{"ratewarden", "X-RateLimit-Limit", func(b *testing.B) http.Handler {
			return router(echolimit.Middleware(ratewardenLimiter(b)))
		}},
		{"floor", "X-RateLimit-Limit", func(b *testing.B) http.Handler { return router(newFloor(b).echo) }},
		{"ulule", "X-RateLimit-Limit", func(*testing.B) http.Handler {
			return router(echo.WrapMiddleware(ululestdlib.NewMiddleware(ululeLimiter()).Handler))
		}},
		{"tollbooth", "RateLimit-Limit", func(*testing.B) http.Handler {
			lmt := tollboothLimiter()
			return router(echo.WrapMiddleware(func(next http.Handler) http.Handler { return tollbooth.LimitHandler(lmt, next) }))
		}},
	}
}

func chiVariants() []mwVariant {
	router := func(mw ...func(http.Handler) http.Handler) http.Handler {
		r := chi.NewRouter()
		r.Use(mw...)
		r.Get("/api/v1/users/{id}", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", mwJSON)
			w.WriteHeader(mwStatus)
			_, _ = w.Write(mwBody)
		})
		return r
	}
	return []mwVariant{
		{"bare", "", func(*testing.B) http.Handler { return router() }},
		{"ratewarden", "X-RateLimit-Limit", func(b *testing.B) http.Handler {
			return router(chilimit.Middleware(ratewardenLimiter(b)))
		}},
		{"floor", "X-RateLimit-Limit", func(b *testing.B) http.Handler { return router(newFloor(b).handler) }},
		{"ulule", "X-RateLimit-Limit", func(*testing.B) http.Handler {
			return router(ululestdlib.NewMiddleware(ululeLimiter()).Handler)
		}},
		{"tollbooth", "RateLimit-Limit", func(*testing.B) http.Handler {
			lmt := tollboothLimiter()
			return router(func(next http.Handler) http.Handler { return tollbooth.LimitHandler(lmt, next) })
		}},
		{"httprate", "X-RateLimit-Limit", func(*testing.B) http.Handler {
			// chi's limiter on its local counter, keyed by the client IP as its documentation
			// says to (LimitByIP is deprecated): chi's ClientIPFromRemoteAddr, then
			// CanonicalizeIP (IPv6 by /64). It sets X-RateLimit-Limit, -Remaining and -Reset.
			return router(chimw.ClientIPFromRemoteAddr, httprate.LimitBy(mwLimit, time.Minute, func(r *http.Request) (string, error) {
				return httprate.CanonicalizeIP(chimw.GetClientIP(r.Context())), nil
			}))
		}},
	}
}
