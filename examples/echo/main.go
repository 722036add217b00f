// Command echo is the ratewarden example app on Echo (SPEC section 8).
//
//	go run ./examples/echo [-addr 127.0.0.1:8080] [-config ratewarden.toml]
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
	e.Use(middleware.Recover())
	e.GET("/metrics", echo.WrapHandler(a.Metrics()))
	e.POST("/admin/reload", echo.WrapHandler(a.Reload()))

	api := e.Group("", echolimit.Middleware(a.Limiter))
	api.GET("/health", wrap(app.Health))
	api.GET("/api/v1/test", wrap(app.Test))
	api.GET("/api/v1/compute", wrap(app.Compute))
	api.POST("/api/v1/compute", wrap(app.Compute))
	api.GET("/api/v1/users/:id", func(c echo.Context) error { app.User(c.Response(), c.Param("id")); return nil })
	api.GET("/api/v1/error", wrap(app.Error))
	os.Exit(a.Run(e))
}

func wrap(h http.HandlerFunc) echo.HandlerFunc { return echo.WrapHandler(h) }
