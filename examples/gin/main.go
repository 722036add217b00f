// Command gin is the ratewarden example app on Gin (SPEC section 8).
//
//	go run ./examples/gin [-addr 127.0.0.1:8080] [-config ratewarden.toml]
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
	r.Use(gin.Recovery())
	r.GET("/metrics", gin.WrapH(a.Metrics()))
	r.POST("/admin/reload", gin.WrapH(a.Reload()))

	api := r.Group("/", ginlimit.Middleware(a.Limiter))
	api.GET("/health", gin.WrapF(app.Health))
	api.GET("/api/v1/test", gin.WrapF(app.Test))
	api.GET("/api/v1/compute", gin.WrapF(app.Compute))
	api.POST("/api/v1/compute", gin.WrapF(app.Compute))
	api.GET("/api/v1/users/:id", func(c *gin.Context) { app.User(c.Writer, c.Param("id")) })
	api.GET("/api/v1/error", gin.WrapF(app.Error))
	os.Exit(a.Run(r))
}
