// Package promlimit exports ratewarden's decisions and backend calls as Prometheus metrics
// (SPEC section 7). An [Observer] implements [core.Observer]; hand it to the limiter with
// [core.WithObserver] and serve the registry it was registered on with promhttp:
//
//	reg := prometheus.NewRegistry()
//	obs, err := promlimit.New(reg, cfg.Metrics)
//	if err != nil { … }
//	lim, err := core.New(cfg, core.WithObserver(obs))
//	…
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The metrics, with the default namespace "ratelimit":
//
//	ratelimit_requests_total{rule, tier, decision}   counter
//	ratelimit_exceeded_total{rule, tier}             counter
//	ratelimit_current_usage{rule, client}            gauge, at most metrics.top_clients series
//	ratelimit_redis_latency_seconds{operation}       histogram
//	ratelimit_redis_errors_total{kind}               counter
//	ratelimit_memory_keys                            gauge, keys the memory backend holds
//	ratelimit_memory_evictions_total{reason}         counter
//
// rule and tier come from the configuration (tiers no rule configures are "other"), so
// their values are bounded; client, on the bounded gauge only, is the one label that names
// an IP address or a user. docs/observability.md describes every series and the
// approximation behind ratelimit_current_usage.
package promlimit
