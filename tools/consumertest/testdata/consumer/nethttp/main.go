// Command nethttp is a net/http app behind adapters/httplimit on the memory backend,
// which the adapter links in: no blank import.
package main

import (
	"net/http"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"

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
