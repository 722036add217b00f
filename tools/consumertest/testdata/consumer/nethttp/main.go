// Command nethttp is a net/http app behind core/httplimit on the memory backend.
package main

import (
	"net/http"

	_ "github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/httplimit"

	"consumer/try"
)

func main() {
	lim, err := core.New(try.Config)
	try.Must(err)
	defer lim.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", try.Hello)
	try.Twice("net/http", httplimit.Middleware(lim)(mux), nil)
}
