// Command gin is the ratewarden example app on Gin (SPEC section 8).
//
//	go run ./examples/gin [-addr 127.0.0.1:8080] [-config ratewarden.toml] [-api-keys keys.txt]
package main

import (
	"os"

	"github.com/gin-gonic/gin"

	"github.com/ratewarden/ratewarden/adapters/ginlimit"
	"github.com/ratewarden/ratewarden/examples/internal/app"
)

func main() {
	a := app.Setup("gin", os.Args[1:], os.Stderr)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true // 405 for a known path with another method, as echo and chi answer
	// Router-wide, so that gin runs the limiter for the 404 and 405 it answers too.
	r.Use(gin.Recovery(), ginlimit.Middleware(a.Limiter, ginlimit.WithSkipper(func(c *gin.Context) bool {
		return app.Unlimited(c.Request.URL)
	})))
	r.GET("/metrics", gin.WrapH(a.Metrics()))
	r.Any("/admin/*endpoint", gin.WrapH(a.Admin()))

	r.GET("/health", gin.WrapF(app.Health))
	r.GET("/api/v1/test", gin.WrapF(app.Test))
	r.GET("/api/v1/compute", gin.WrapF(app.Compute))
	r.POST("/api/v1/compute", gin.WrapF(app.Compute))
	r.GET("/api/v1/users/:id", func(c *gin.Context) { app.User(c.Writer, c.Param("id")) })
	r.POST("/api/v1/login", gin.WrapF(app.Login))
	r.GET("/api/v1/error", gin.WrapF(app.Error))
	os.Exit(a.Run(r))
}
