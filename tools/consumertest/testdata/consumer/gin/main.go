// Command gin is a gin app behind ginlimit.
package main

import (
	"github.com/gin-gonic/gin"
	"github.com/ratewarden/ratewarden/adapters/ginlimit"

	"consumer/try"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(ginlimit.New(try.Config))
	r.GET("/hello", gin.WrapF(try.Hello))
	try.Twice("gin", r, nil)
}
