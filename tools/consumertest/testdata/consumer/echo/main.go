// Command echo is an echo app behind echolimit.
package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/ratewarden/ratewarden/adapters/echolimit"

	"consumer/try"
)

func main() {
	e := echo.New()
	e.HideBanner = true
	e.Use(echolimit.New(try.Config))
	e.GET("/hello", echo.WrapHandler(http.HandlerFunc(try.Hello)))
	try.Twice("echo", e, nil)
}
