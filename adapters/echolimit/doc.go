// Package echolimit is the echo adapter of ratewarden: middleware that decides every
// request with a [core.Limiter], sets the rate-limit headers before the handler runs, and
// answers 429 (or 503 when the backend is down and fail_mode is "closed") itself.
//
//	e := echo.New()
//	e.Use(middleware.Recover(), echolimit.New(cfg))              // every route
//	e.POST("/api/v1/compute", compute, echolimit.New(computeCfg)) // or one route
//
// Rules match the path or echo's route template (c.Path(), "/users/:id"), which is known
// to middleware added with Use, Group or per route, but not to Pre middleware. The client
// address is derived by core from the connection and the configured trusted proxies,
// never from echo's RealIP. Importing echolimit registers the memory backend.
//
// Errors: the default 429 and 503 are written directly, with the body and content type
// of the configuration, and do not pass through echo's HTTPErrorHandler; a
// [WithDeniedHandler] or [WithErrorHandler] hook may return an error (such as an
// *echo.HTTPError) to send them there instead. Errors returned by the handlers after the
// middleware reach the HTTPErrorHandler unchanged, and the response it writes carries
// the rate-limit headers, which are set before the handler runs.
package echolimit
