package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/internal/pattern"
	"github.com/ratewarden/ratewarden/core/internal/problem"
	"github.com/ratewarden/ratewarden/core/rate"
)

// KeyDoc documents one configuration key. [Reference] lists them, and the reference
// tables of docs/configuration.md are generated from it (make config-ref, tools/configref),
// with the key's type, default and environment variable read from [Config] itself.
type KeyDoc struct {
	// Key is the key path in the file: "redis.timeout", "endpoints[<i>].pattern", with
	// <i> for a list index and <name> for a table name. "<rule>.limit" stands for the
	// limit of default, tiers.<name>, endpoints[<i>] and endpoints[<i>].tiers.<name>.
	Key string
	// Default says the default in words where it is not the key's value in
	// [DefaultConfig] ("a slug of the pattern"); empty otherwise. (The limits of a
	// <rule> have a default only in [default], which the generator shows.)
	Default string
	// Rule is the validation rule. For the keys validation checks one value at a time
	// it is the documentation of the very check that validation runs.
	Rule string
	// Meaning says what the key does.
	Meaning string
}

// Reference returns every configuration key with its meaning and validation rule, in the
// order of docs/configuration.md.
func Reference() []KeyDoc {
	out := make([]KeyDoc, len(reference))
	for i, d := range reference {
		out[i] = KeyDoc{Key: d.key, Default: d.def, Rule: d.rule, Meaning: d.meaning}
		if d.check != nil {
			out[i].Rule = d.check.doc
		}
	}
	return out
}

// keyDoc is an entry of the reference: either a prose rule (checked against validation by
// a test's examples) or a check that validation runs.
type keyDoc struct {
	key, def, rule, meaning string
	check                   *check
}

// check is the validation rule of a key whose value is valid or not on its own: doc states
// it in the reference, run reports a bad value at key.
type check struct {
	doc string
	run func(l *problem.List, key string, v any)
}

// positive is the check of a duration that must be > 0.
func positive() *check {
	return &check{doc: "> 0", run: func(l *problem.List, key string, v any) {
		if d := v.(time.Duration); d <= 0 {
			l.Add(key, "must be > 0, got %q", d.String())
		}
	}}
}

// atLeast is the check of an integer that must be ≥ low; note, when not empty, follows the
// bound in the rule and the message ("(0 = client default)").
func atLeast(low int, note string) *check {
	bound := fmt.Sprintf("≥ %d", low)
	if note != "" {
		bound += " " + note
	}
	return &check{doc: bound, run: func(l *problem.List, key string, v any) {
		if n := v.(int); n < low {
			l.Add(key, "must be %s, got %d", bound, n)
		}
	}}
}

// orNone is the check of an integer whose zero means its default and -1 means none.
func orNone() *check {
	return &check{doc: "≥ 0, or -1 for none", run: func(l *problem.List, key string, v any) {
		if n := v.(int); n < -1 {
			l.Add(key, "must be ≥ 0, or -1 for none, got %d", n)
		}
	}}
}

// orNoneUpTo is orNone with an upper bound.
func orNoneUpTo(high int) *check {
	bound := fmt.Sprintf("0 to %d, or -1 for none", high)
	return &check{doc: bound, run: func(l *problem.List, key string, v any) {
		if n := v.(int); n < -1 || n > high {
			l.Add(key, "must be %s, got %d", bound, n)
		}
	}}
}

// atLeastDuration is the check of a duration that must be ≥ low.
func atLeastDuration(low time.Duration) *check {
	return &check{doc: fmt.Sprintf("≥ `%q`", low.String()), run: func(l *problem.List, key string, v any) {
		if d := v.(time.Duration); d < low {
			l.Add(key, "must be ≥ %q, got %q", low.String(), d.String())
		}
	}}
}

// enum is the check of a setting that must be one of values ("" is the default, valid).
func enum[T ~string](values ...T) *check {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + string(v) + "`"
	}
	return &check{doc: "one of " + strings.Join(quoted, ", "), run: func(l *problem.List, key string, v any) {
		l.AddAll(key, oneOf(v.(T), values...))
	}}
}

// The values of the enumerated settings, which their checks and the reference share.
var (
	modes        = []Mode{ModeEnforce, ModeShadow}
	backends     = []Backend{BackendMemory, BackendRedis}
	failModes    = []FailMode{FailOpen, FailClosed, FailLocal}
	scopes       = []Scope{ScopeClient, ScopeIP, ScopeGlobal}
	formats      = []string{FormatJSON, FormatProblem}
	redisModes   = []string{RedisStandalone, RedisSentinel, RedisCluster}
	algorithmDoc = func() string {
		names := make([]Algorithm, 0, len(rate.Algorithms()))
		for _, a := range rate.Algorithms() {
			names = append(names, Algorithm(a.String()))
		}
		return enum(names...).doc
	}()
)

// checks are the checks of the reference by key, for the validator.
var checks = func() map[string]*check {
	m := map[string]*check{}
	for _, d := range reference {
		if d.check != nil {
			m[d.key] = d.check
		}
	}
	return m
}()

// run reports value at key when the reference's check of key rejects it.
func (v *validator) run(key string, value any) { v.runAt(key, key, value) }

// runAt reports value at key when the check of ref, its key in the reference
// ("endpoints[<i>].scope" for "endpoints[2].scope"), rejects it.
func (v *validator) runAt(ref, key string, value any) {
	c, ok := checks[ref]
	if !ok {
		panic("config: the reference has no check for " + ref) // a bug, which any test finds
	}
	c.run(&v.List, key, value)
}

const windowRule = "whole seconds, ≥ 1s, ≤ `\"87600h\"` (ten years); the algorithm bounds the limit (see below)"

// reference is every key of the configuration, in the order of docs/configuration.md.
var reference = []keyDoc{
	{key: "enabled", meaning: "`false` turns the middleware into a pass-through: no counters, no headers."},
	{key: "mode", check: enum(modes...), meaning: "`enforce` answers 429 on denial; `shadow` never blocks but computes, logs and sends the headers as `enforce` would."},
	{key: "algorithm", rule: algorithmDoc, meaning: "The algorithm of every rule ([algorithms](algorithms.md#which-to-choose))."},
	{key: "backend", check: enum(backends...), meaning: "`memory` (in-process) or `redis` (shared). Needs a restart to change."},
	{key: "fail_mode", check: enum(failModes...), meaning: "With the redis backend, what a decision does when Redis cannot answer: `open` admits (no headers), `closed` answers 503, `local` decides with an in-process limiter until Redis is back. No effect with `backend = \"memory\"`. A change to or from `local` needs a restart."},
	{key: "key_prefix", rule: "no whitespace, control characters, `{` or `}` (they would break the hash tag)", meaning: "First part of the Redis keys `<key_prefix>:{<scope>:<id>:<rule>}:<window-seconds>`. Needs a restart to change."},
	{key: "documentation_url", rule: "empty, or an absolute `http` or `https` URL", meaning: "Link put in 429 bodies; omitted when empty."},

	{key: "<rule>.limit", rule: "≥ 1; with `window`, or `windows` instead, not both", meaning: "At most `limit` units per `window`."},
	{key: "<rule>.window", rule: windowRule, meaning: "The period of `limit`."},
	{key: "<rule>.windows[<i>].limit", def: "—", rule: fmt.Sprintf("≥ 1; at most %d windows", rate.MaxWindows), meaning: "Instead of `limit`/`window`: a list of windows, **all** enforced (`windows = [{limit = 10, window = \"1s\"}, {limit = 100, window = \"1m\"}]`)."},
	{key: "<rule>.windows[<i>].window", def: "—", rule: "as `window`; no two windows of a rule with the same period", meaning: "The period of the window's `limit`."},
	{key: "<rule>.cost", def: "1 (a tier override: its rule's cost)", rule: "≥ 1 and ≤ the smallest limit of the rule; an explicit `0` is an error (leave the key out)", meaning: "Units one request consumes in every window."},

	{key: "endpoints[<i>].pattern", def: "required", rule: "`/exact`, `/prefix/*`, `/users/{id}` or `/users/:id`; not the same pattern and methods as an earlier endpoint", meaning: "The paths the rule applies to ([rules](rules.md)). `*` matches one or more trailing segments, a parameter one segment."},
	{key: "endpoints[<i>].name", def: "a slug of the pattern", rule: "matches `" + pattern.Name.String() + "`, unique among endpoints, not `default`", meaning: "Name in `RateLimit-Policy`, bodies, metrics (`rule` label), logs and environment variables. The slug of `/api/v1/users/{id}` is `api-v1-users-id`, of `/api/v1/admin/*` `api-v1-admin-any`, of `/` `root`; two patterns with one slug (`/a-b`, `/a/b`) need a `name`."},
	{key: "endpoints[<i>].methods", def: "`[]` = every method", rule: "HTTP methods (tokens), each once", meaning: "The methods the rule applies to, matched case-insensitively (`\"get\"` is `GET`)."},
	{key: "endpoints[<i>].scope", def: "`\"" + string(ScopeClient) + "\"`", check: enum(scopes...), meaning: "Whom the rule counts ([identity](identity.md#rule-scope)): `client` (as identified: custom key, API key, verified user, else IP), `ip` (the client IP, even for identified clients), `global` (one counter for every client of the rule, client `global`, id `*` in its keys: its own limits whatever the tier, so `tiers` are an error; exemptions still apply)."},
	{key: "endpoints[<i>].count_statuses", def: "`[]` = every admitted request counts", rule: "HTTP statuses, 100 to 599", meaning: "Count by response: a request is admitted when every window could take its cost, and the cost is consumed after the handler only when the response status is listed (`[401, 403]` for failed logins; see [rules](rules.md#counting-by-response))."},

	{key: "api_key.enabled", meaning: "Identify clients by the API key in `header`, verified by the application's lookup (`core.WithKeyLookup`); `true` without a lookup refuses to start."},
	{key: "api_key.header", rule: "an HTTP header name (token characters)", meaning: "Request header carrying the key."},
	{key: "api_key.cache_ttl", check: positive(), meaning: "How long the lookup's answer for a key — found or not found — is reused. A reload empties the cache."},
	{key: "api_key.timeout", check: positive(), meaning: "Deadline of one lookup; a request never waits longer for it (then it is anonymous)."},

	{key: "client_ip.trusted_proxies", rule: "IPs or CIDRs", meaning: "Proxies whose forwarding headers are believed. Empty = the TCP peer is always the client."},
	{key: "client_ip.header", rule: "`X-Forwarded-For`, `Forwarded` (RFC 7239) or `X-Real-IP`, case-insensitive", meaning: "The forwarding header read from trusted proxies."},
	{key: "client_ip.ipv6_prefix", rule: "1 to 128", meaning: "IPv6 clients are keyed by this prefix length."},

	{key: "jwt.enabled", meaning: "Identify clients by verified bearer tokens. The other `jwt.*` keys are validated only when `true`."},
	{key: "jwt.secret", rule: "at least 32 bytes; exactly one of `secret`, `public_key_file` and `jwks_url`", meaning: "HMAC secret. Prefer the environment variable to the file."},
	{key: "jwt.public_key_file", rule: "a readable PEM RSA, ECDSA or Ed25519 public key", meaning: "Public key file, read at start and at every reload."},
	{key: "jwt.jwks_url", rule: "an `http` or `https` URL (not fetched by validation)", meaning: "URL of a JWKS key set ([jwt](jwt.md))."},
	{key: "jwt.algorithms", def: "the key type's", rule: "each fits the key; `none` is always rejected", meaning: "Accepted `alg` values."},
	{key: "jwt.user_claim", meaning: "Claim holding the user id."},
	{key: "jwt.tier_claim", meaning: "Claim holding the tier name."},
	{key: "jwt.issuer", meaning: "Required `iss`, when set."},
	{key: "jwt.audience", meaning: "Required `aud`, when set."},
	{key: "jwt.leeway", rule: "≥ 0, or -1 for none", meaning: "Clock skew allowed on `exp` and `nbf`."},
	{key: "jwt.jwks_timeout", rule: "> 0 and ≤ 10s", meaning: "With `jwks_url`: the longest a request whose token names an unknown `kid` waits for the key set to be fetched again; the fetch goes on in the background, at most one per 5 minutes ([jwt](jwt.md))."},

	{key: "exemptions.ips", rule: "IPs or CIDRs", meaning: "Clients never limited, and sent no rate-limit headers."},
	{key: "exemptions.users", rule: "no empty entry", meaning: "User ids (from verified tokens, or the ids verified API keys map to) never limited."},

	{key: "penalty.enabled", meaning: "Progressive cooldowns for clients that keep hitting a limit; not on rules with `scope = \"global\"`, whose one counter is every client's (one client's flood would lock all out). The other `penalty.*` keys are validated only when `true`."},
	{key: "penalty.threshold", rule: "1 to 1000", meaning: "Violations within `period` that start a cooldown."},
	{key: "penalty.period", rule: "> 0, ≤ `\"87600h\"`", meaning: "Violations older than this no longer count."},
	{key: "penalty.base_cooldown", rule: "> 0", meaning: "First cooldown."},
	{key: "penalty.multiplier", rule: "≥ 1", meaning: "Cooldown = `base_cooldown × multiplier^(violations − threshold)`."},
	{key: "penalty.max_cooldown", rule: "≥ `base_cooldown`, ≤ `\"87600h\"`", meaning: "Cap on the cooldown."},

	{key: "headers.x_ratelimit", meaning: "Send `X-RateLimit-Limit`, `-Remaining`, `-Reset`, `-Used`."},
	{key: "headers.ietf", meaning: "Send `RateLimit` and `RateLimit-Policy`."},
	{key: "response.format", check: enum(formats...), meaning: "429 body: `json` (`application/json`) or `problem` (RFC 9457 `application/problem+json`)."},

	{key: "redis.mode", check: enum(redisModes...), meaning: "Standalone server, Sentinel, or Cluster ([redis](redis.md#setup-per-mode))."},
	{key: "redis.addrs", rule: "`host:port` each", meaning: "The server, the sentinels, or the cluster seed nodes."},
	{key: "redis.master_name", rule: "required in sentinel mode", meaning: "Sentinel master name."},
	{key: "redis.username", meaning: "ACL user name."},
	{key: "redis.password", meaning: "Password. Prefer the environment variable to the file."},
	{key: "redis.db", rule: "≥ 0; 0 in cluster mode", meaning: "Database number."},
	{key: "redis.pool_size", check: atLeast(0, "(0 = client default)"), meaning: "Connection pool size."},
	{key: "redis.dial_timeout", check: positive(), meaning: "Connection timeout."},
	{key: "redis.timeout", check: positive(), meaning: "Time budget of one decision, retries included."},
	{key: "redis.max_retries", check: orNone(), meaning: "Retries within the budget; an explicit `0` is an error (it would mean the default)."},
	{key: "redis.local_cache", meaning: "Answer a key denied until T locally until T, without a round trip ([redis](redis.md#local-cache-redislocal_cache-default-on))."},
	{key: "redis.circuit_breaker.failure_threshold", check: atLeast(1, ""), meaning: "Consecutive failed Redis script calls that open the breaker (a batch of decisions is one call)."},
	{key: "redis.circuit_breaker.open_timeout", check: positive(), meaning: "How long the breaker stays open before probing again."},

	{key: "memory.max_keys", check: atLeast(1, ""), meaning: "Bound on tracked keys (about 200 bytes each). When full, keys whose state is back to a fresh key's are forgotten first, then the least recently used; evictions are counted and logged ([observability](observability.md))."},
	{key: "memory.sweep_interval", check: atLeastDuration(MinSweepInterval), meaning: "How often idle keys are swept (each sweep walks every key: a shorter interval would keep a core busy)."},

	{key: "metrics.enabled", meaning: "Prometheus metrics (adapters/promlimit)."},
	{key: "metrics.namespace", rule: "a Prometheus name matching `" + promNameRE.String() + "`", meaning: "Metric name prefix."},
	{key: "metrics.top_clients", check: orNoneUpTo(MaxTopClients), meaning: "Bound on the clients of the `current_usage` gauge; -1 = no per-client series. The series are kept in memory and exported on every scrape: a larger bound is a cardinality problem for Prometheus and was an out-of-memory for the process."},
	{key: "admin.token", meaning: "Bearer token for the admin endpoints (`POST /admin/reload`, `GET`/`DELETE /admin/limits`) of `httplimit.NewAdmin` and the example apps; empty = endpoints off. Prefer the environment variable."},
}
