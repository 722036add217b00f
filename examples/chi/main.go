// Command chi is the ratewarden example app on Chi (SPEC section 8).
//
//	go run ./examples/chi [-addr 127.0.0.1:8080] [-config ratewarden.toml] [-api-keys keys.txt]
package main

import (
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/ratewarden/ratewarden/adapters/chilimit"
	"github.com/ratewarden/ratewarden/examples/internal/app"
)

func main() {
	a := app.Setup("chi", os.Args[1:], os.Stderr)
	r := chi.NewRouter()
	// On the root router (r.Use), so that chi runs the limiter for the 404 and 405 it
	// answers too.
	r.Use(middleware.Recoverer, chilimit.Middleware(a.Limiter, chilimit.WithSkipper(func(r *http.Request) bool {
		return app.Unlimited(r.URL)
	})))
	r.Method(http.MethodGet, "/metrics", a.Metrics())
	r.Handle("/admin/*", a.Admin())

	r.Get("/health", app.Health)
	r.Get("/api/v1/test", app.Test)
	r.Get("/api/v1/compute", app.Compute)
	r.Post("/api/v1/compute", app.Compute)
	r.Get("/api/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) { app.User(w, chi.URLParam(r, "id")) })
	r.Post("/api/v1/login", app.Login)
	r.Get("/api/v1/error", app.Error)
	os.Exit(a.Run(r))
}
