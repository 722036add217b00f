// Package httplimit is the net/http middleware of ratewarden, and the reference the gin,
// echo and chi adapters follow: decide with a [core.Limiter], set the rate-limit
// headers before the handler runs (so 2xx, 4xx and 5xx responses all carry them), and
// answer 429 or 503 from the [core.Decision] when the request must not proceed.
//
//	http.ListenAndServe(addr, httplimit.New(cfg)(mux))
//
// Like the other adapters it is its own module, which requires the memory backend and
// registers it: New works with no other import. [NewAdmin] serves the admin endpoints
// (configuration reload, and the status and reset of a client's limits) behind a bearer
// token.
package httplimit
