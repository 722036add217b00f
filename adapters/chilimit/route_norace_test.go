//go:build !race

package chilimit

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
)

// TestRoutePatternAllocs: looking the pattern up from r.Use middleware does not allocate.
// (Not under the race detector, which makes sync.Pool drop items at random.)
func TestRoutePatternAllocs(t *testing.T) {
	r := chi.NewRouter()
	var allocs float64
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			allocs = testing.AllocsPerRun(100, func() { _ = routePattern(r) })
			next.ServeHTTP(w, r)
		})
	})
	r.Get("/api/v1/users/{id}", func(http.ResponseWriter, *http.Request) {})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/users/42", nil))
	assert.Zero(t, allocs)
}
