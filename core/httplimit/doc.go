// Package httplimit is the net/http middleware of ratewarden, and the reference the gin,
// echo and chi adapters follow: decide with the core [core.Limiter], set the rate-limit
// headers before the handler runs (so 2xx, 4xx and 5xx responses all carry them), and
// answer 429 or 503 from the [core.Decision] when the request must not proceed.
//
//	lim, err := core.New(cfg) // import _ ".../backends/memorystore" for the memory backend
//	...
//	http.ListenAndServe(addr, httplimit.Middleware(lim)(mux))
package httplimit
