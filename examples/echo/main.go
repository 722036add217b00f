// Command echo is the ratewarden example app on Echo (SPEC section 8).
//
//	go run ./examples/echo [-addr 127.0.0.1:8080] [-config ratewarden.toml] [-api-keys keys.txt]
package main

import (
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ratewarden/ratewarden/adapters/echolimit"
	"github.com/ratewarden/ratewarden/examples/internal/app"
)

func main() {
	a := app.Setup("echo", os.Args[1:], os.Stderr)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Router-wide (e.Use), so that echo runs the limiter for the 404 and 405 it answers too.
	e.Use(middleware.Recover(), echolimit.Middleware(a.Limiter, echolimit.WithSkipper(func(c echo.Context) bool {
		return app.Unlimited(c.Request().URL)
	})))
	e.GET("/metrics", echo.WrapHandler(a.Metrics()))
	e.Any("/admin/*", echo.WrapHandler(a.Admin()))

	e.GET("/health", wrap(app.Health))
	e.GET("/api/v1/test", wrap(app.Test))
	e.GET("/api/v1/compute", wrap(app.Compute))
	e.POST("/api/v1/compute", wrap(app.Compute))
	e.GET("/api/v1/users/:id", func(c echo.Context) error { app.User(c.Response(), c.Param("id")); return nil })
	e.POST("/api/v1/login", wrap(app.Login))
	e.GET("/api/v1/error", wrap(app.Error))
	os.Exit(a.Run(e))
}

func wrap(h http.HandlerFunc) echo.HandlerFunc { return echo.WrapHandler(h) }
