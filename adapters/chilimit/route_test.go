package chilimit

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
)

// TestRoutePattern: the middleware sees the complete route pattern wherever it is
// mounted, before chi has finished routing.
func TestRoutePattern(t *testing.T) {
	t.Parallel()
	var got string
	spy := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = routePattern(r)
			next.ServeHTTP(w, r)
		})
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	users := func(r chi.Router) {
		r.Get("/users/{id}", ok)
		r.Get("/files/*", ok)
	}

	routers := []struct {
		name   string
		router func() http.Handler
		prefix string // of the routes
	}{
		{"Use on the root router", func() http.Handler {
			r := chi.NewRouter()
			r.Use(spy)
			users(r)
			return r
		}, ""},
		{"Use on a sub-router", func() http.Handler {
			r := chi.NewRouter()
			r.Route("/api/v1", func(r chi.Router) {
				r.Use(spy)
				users(r)
			})
			return r
		}, "/api/v1"},
		{"Use on the root router, routes on a mounted sub-router", func() http.Handler {
			r, sub := chi.NewRouter(), chi.NewRouter()
			r.Use(spy)
			users(sub)
			r.Mount("/api/v1", sub)
			return r
		}, "/api/v1"},
		{"Use on a group", func() http.Handler {
			r := chi.NewRouter()
			r.Group(func(r chi.Router) {
				r.Use(spy)
				users(r)
			})
			return r
		}, ""},
		{"With", func() http.Handler {
			r := chi.NewRouter()
			users(r.With(spy))
			return r
		}, ""},
	}
	for _, rt := range routers {
		t.Run(rt.name, func(t *testing.T) {
			h := rt.router()
			tests := []struct{ method, path, want string }{
				{http.MethodGet, rt.prefix + "/users/42", rt.prefix + "/users/{id}"},
				{http.MethodGet, rt.prefix + "/users/a%2Fb", rt.prefix + "/users/{id}"},
				{http.MethodGet, rt.prefix + "/files/a/b.txt", rt.prefix + "/files/*"},
			}
			for _, tt := range tests {
				got = "unset"
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, nil))
				assert.Equal(t, tt.want, got, "%s %s", tt.method, tt.path)
			}
			// Paths and methods chi does not route have no pattern (when the middleware
			// runs for them at all: inline middleware does not).
			for _, req := range [][2]string{{http.MethodGet, rt.prefix + "/nope"}, {http.MethodPost, rt.prefix + "/users/42"}} {
				got = "unset"
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req[0], req[1], nil))
				if got != "unset" {
					assert.Empty(t, got, "%s %s", req[0], req[1])
				}
			}
		})
	}

	assert.Empty(t, routePattern(httptest.NewRequest(http.MethodGet, "/users/1", nil)), "outside chi")
}
