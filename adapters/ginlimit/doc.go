// Package ginlimit is the gin adapter of ratewarden: middleware that decides every
// request with a [core.Limiter], sets the rate-limit headers before the handlers run, and
// answers 429 (or 503 when the backend is down and fail_mode is "closed") itself.
//
//	r := gin.New()
//	r.Use(gin.Recovery(), ginlimit.New(cfg))                     // every route
//	r.POST("/api/v1/compute", ginlimit.New(computeCfg), compute) // or one route
//
// Rules match the path or gin's route template (c.FullPath(), "/users/:id"). The client
// address is derived by core from the connection and the configured trusted proxies,
// never from gin's ClientIP. Importing ginlimit registers the memory backend.
package ginlimit
