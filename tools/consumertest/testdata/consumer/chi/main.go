// Command chi is a chi app behind chilimit.
package main

import (
	"github.com/go-chi/chi/v5"
	"github.com/ratewarden/ratewarden/adapters/chilimit"

	"consumer/try"
)

func main() {
	r := chi.NewRouter()
	r.Use(chilimit.New(try.Config))
	r.Get("/hello", try.Hello)
	try.Twice("chi", r, nil)
}
