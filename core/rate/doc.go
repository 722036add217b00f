// Package rate holds what a store needs to decide a request: the [Policy] of a rule (its
// [Algorithm], [Window]s and [PenaltyPolicy]), the [Store] contract with its [Request] and
// [Result], and the errors stores return.
//
// The arithmetic of the algorithms is here once, for every in-process store: [Policy.Apply]
// on a [KeyState]. Each algorithm is one file, the mirror step for step of the Redis
// script of the same name in backends/redisstore/lua (gcra.lua and bucket.lua share the
// token bucket's arithmetic). docs/algorithms.md describes the state each keeps, and the
// conformance suite in core/storetest holds every backend to the same decisions.
package rate
