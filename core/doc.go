// Package core decides, for each HTTP request, whether the client is within its limits,
// and computes what to answer: the rate-limit headers, and the 429 or 503 body. It is
// framework-free: the net/http middleware in [httplimit] and the gin, echo and chi
// adapters wrap [Limiter.Gate], which decides a request, sets its headers and keeps the
// [Decision] in the request context ([FromContext]).
//
// A [Limiter] is built from a [config.Config] — in code, or read from TOML and RATELIMIT_*
// environment variables with [configfile.Load] — and a [rate.Store] that keeps the
// counters: the embedded backends/memorystore or backends/redisstore. Its configuration
// is hot-reloaded with [Limiter.Reload] without losing counters.
//
//	cfg, err := configfile.Load("ratewarden.toml") // or a config.Config built in code
//	if err != nil { … }                           // every problem, each naming its key
//	lim, err := core.New(cfg)                     // with backends/memorystore imported
//	if err != nil { … }
//	defer lim.Close()
//	http.ListenAndServe(addr, httplimit.Middleware(lim)(mux))
//
// Code that decides a request itself reads the [Decision]:
//
//	var d core.Decision
//	lim.Decide(core.Input{Request: r}, &d)
//	if !d.Proceed() {
//		d.WriteResponse(w) // 429 with Retry-After, or 503
//		return
//	}
//	log.Printf("%s: %d of %d left", d.ClientID(), d.Remaining(), d.Limit())
//
// Per request the Limiter identifies the client (peer IP, forwarding headers from trusted
// proxies only, or a verified JWT user with its tier), resolves the most specific rule for
// the path, skips exempted clients, and asks the store to check and consume the request's
// cost in every window of the rule at once: all windows admit it, or none is charged. The
// arithmetic of the algorithms is in package rate ([rate.Policy]), written once for every
// in-process store and mirrored by the Redis scripts; package storetest holds every
// backend to it. docs/architecture.md shows where each concern lives.
//
// [httplimit]: https://pkg.go.dev/github.com/ratewarden/ratewarden/adapters/httplimit
// [configfile.Load]: https://pkg.go.dev/github.com/ratewarden/ratewarden/core/configfile#Load
package core
