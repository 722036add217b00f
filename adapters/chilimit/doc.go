// Package chilimit is the chi adapter of ratewarden: middleware that decides every
// request with a [core.Limiter], sets the rate-limit headers before the handler runs, and
// answers 429 (or 503 when the backend is down and fail_mode is "closed") itself.
//
//	r := chi.NewRouter()
//	r.Use(middleware.Recoverer, chilimit.New(cfg))                    // every route
//	r.With(chilimit.New(computeCfg)).Post("/api/v1/compute", compute) // or one route
//
// Rules match the path or chi's route pattern ("/users/{id}"). Middleware added with
// r.Use on a router runs before that router has routed the request, when
// chi.RouteContext(ctx).RoutePattern() is still empty or partial; chilimit then asks the
// root router for the pattern the request will match (chi's Routes.Find, the routing
// lookup without the handler), so rules see the same template wherever the middleware
// sits: r.Use, a sub-router's Use, r.With or r.Group. The client address is derived by
// core from the connection and the configured trusted proxies: do not rely on chi's
// middleware.RealIP for it. chilimit is httplimit's middleware told chi's route pattern; its
// options are httplimit's. Importing chilimit registers the memory backend.
package chilimit
