// Package adaptertest is the conformance suite every ratewarden middleware passes: the
// net/http middleware in adapters/httplimit and the gin, echo and chi adapters run the same
// cases against the same routes, end to end through the framework's router, and must
// answer identically (SPEC sections 1 to 3): bursts and the 429 that follows, the exact
// X-RateLimit-*, RateLimit, RateLimit-Policy and Retry-After headers on 2xx, 4xx, 429
// and 5xx responses, the 429 body in both formats, the 503 of fail_mode = "closed",
// per-endpoint counters, route templates, ids holding an escaped slash, escaped paths
// counted under the rule of the route the router serves, HEAD under a rule
// that lists GET, the 404 and 405 the router answers to unrouted requests, requests a
// skipper lets through, tiers from signed tokens, API keys and their tiers from the
// application's lookup (found, not found, timed out), rule scopes (ip, global),
// exemptions, shadow mode, enabled = false, trusted proxies, IPv6 prefixes and the
// decision a handler reads back from the adapter's FromContext.
//
// A framework takes part with a [Mount] that builds its router with [Routes]:
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, func(t *testing.T, cfg config.Config, opts ...core.Option) http.Handler {
//			r := chi.NewRouter()
//			r.Use(middleware.Recoverer, chilimit.New(cfg, chilimit.WithCoreOptions(opts...)))
//			for _, rt := range adaptertest.Routes { … }
//			return r
//		})
//	}
//
// The suite passes its own store, clock and logger in opts (and, for API keys, a key
// lookup), so no case sleeps and the cases can make the backend fail; the lookup's timeout
// passes in a testing/synctest bubble. It imports no framework.
package adaptertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// Mount builds the server under test for one case: the framework's router serving every
// route of [Routes], behind the framework's recovery middleware and, inside it, the
// adapter's middleware used router-wide (r.Use / e.Use, so that the router's 404 and 405
// answers pass through it too; gin with HandleMethodNotAllowed set, to answer 405) and
// built from cfg with opts passed on to core.New (the adapters' New(cfg,
// WithCoreOptions(opts...))) and with [Skip] as its skipper (WithSkipper). It is called
// once per case, possibly from parallel tests; it may use t for cleanups.
type Mount func(t *testing.T, cfg config.Config, opts ...core.Option) http.Handler

// Kind is how a route of [Routes] answers.
type Kind uint8

// The kinds of route.
const (
	// OK routes answer 200 with [WriteReply], reporting the decision the handler got
	// from the adapter's FromContext.
	OK Kind = iota
	// Fail routes fail the framework's way: echo handlers return an error, which echo's
	// HTTPErrorHandler turns into a 500; other frameworks answer 500 (see [WriteFail]).
	Fail
	// Panic routes panic; the framework's recovery middleware, mounted outside the
	// limiter, answers 500.
	Panic
	// Named routes decide the request again in the handler, with the adapter's Allow
	// under the rule [NamedRule] and the key [NamedKey] returns; when Allow returns true
	// they answer as [OK] routes do, otherwise Allow has answered.
	Named
)

// SkipHeader marks the requests [Skip] lets through.
const SkipHeader = "X-Adaptertest-Skip"

// Skip is the skipper every [Mount] gives the adapter's WithSkipper: it lets through the
// requests that carry [SkipHeader], as a skipper for internal addresses would.
func Skip(r *http.Request) bool { return r.Header.Get(SkipHeader) != "" }

// NamedRule is the rule [Named] routes decide under from their handler.
const NamedRule = "signin"

// NamedKey is the key [Named] routes decide under from their handler: the request's
// "user" query parameter, as a login handler would read a username.
func NamedKey(r *http.Request) string { return r.URL.Query().Get("user") }

// Route is one route the server under test serves.
type Route struct {
	Method string
	Path   string // with {name} parameters, as chi and net/http write them
	Kind   Kind
}

// ColonPath is the route's path with :name parameters, as gin and echo write them.
func (r Route) ColonPath() string {
	var b strings.Builder
	for i, seg := range strings.Split(r.Path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = ":" + seg[1:len(seg)-1]
		}
		b.WriteString(seg)
	}
	return b.String()
}

// Routes are the routes every [Mount] serves: those of the example apps (SPEC section 8),
// a static route beside "/api/v1/users/{id}" and one that panics.
var Routes = []Route{
	{http.MethodGet, "/api/v1/test", OK},
	{http.MethodGet, "/health", OK},
	{http.MethodGet, "/api/v1/compute", OK},
	{http.MethodPost, "/api/v1/compute", OK},
	{http.MethodGet, "/api/v1/users/{id}", OK},
	{http.MethodGet, "/api/v1/users/me", OK},
	{http.MethodGet, "/api/v1/error", Fail},
	{http.MethodGet, "/api/v1/panic", Panic},
	{http.MethodPost, "/api/v1/signin", Named},
}

// Reply is the body of [OK] routes: what the handler learned from the adapter's
// FromContext.
type Reply struct {
	Status  string `json:"status"`            // always "ok"
	Decided bool   `json:"decided"`           // FromContext's ok
	Outcome string `json:"outcome,omitempty"` // "allowed", "shadow_denied", "exempt", "disabled", "error"
	Rule    string `json:"rule,omitempty"`
	Client  string `json:"client,omitempty"` // Decision.ClientID: "ip:203.0.113.7", "user:alice"
	Tier    string `json:"tier,omitempty"`
}

// RouteHeader names, in the answer of an [OK] route, the route the router served the
// request with: its [Route.Path].
const RouteHeader = "X-Adaptertest-Route"

// WriteReply answers the [OK] route rt: 200 with the JSON [Reply] for d and ok, the
// results of the adapter's FromContext, and rt's path in [RouteHeader].
func WriteReply(w http.ResponseWriter, rt Route, d *core.Decision, ok bool) {
	r := Reply{Status: "ok", Decided: ok && d != nil}
	if r.Decided {
		r.Outcome, r.Rule, r.Tier = d.Outcome.String(), d.Rule(), d.Tier
		if d.Outcome != core.Disabled {
			r.Client = d.ClientID()
		}
	}
	body, _ := json.Marshal(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(RouteHeader, rt.Path)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// WriteFail answers a [Fail] route for frameworks whose handlers return no error: 500
// with a small JSON body.
func WriteFail(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`{"error":"internal"}`))
}

// Run runs every case of the suite against the servers mount builds, each case on a
// fresh server, in parallel.
func Run(t *testing.T, mount Mount) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newServer(t, mount, c.config, c.options...))
		})
	}
}
