// Package app is what the three example apps share: flags, configuration, JSON logs, the
// limiter with its metrics, SIGHUP reloads, graceful shutdown and the route handlers. Each
// app's main only wires these into its framework (SPEC section 8).
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/adapters/promlimit"
	_ "github.com/ratewarden/ratewarden/backends/memorystore" // backend = "memory"
	_ "github.com/ratewarden/ratewarden/backends/redisstore"  // backend = "redis"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/configfile"
)

// shutdownGrace bounds how long in-flight requests may take to finish on SIGINT/SIGTERM.
const shutdownGrace = 30 * time.Second

// App is one example app's shared state.
type App struct {
	Name    string
	Addr    string
	Limiter *core.Limiter
	Logger  *slog.Logger

	source   configfile.Source
	keys     *keyFile // -api-keys; nil when not given
	registry *prometheus.Registry
}

// Setup parses the flags (-addr, -config, -api-keys), loads the configuration (built-in
// defaults when -config is absent; RATELIMIT_* variables either way) and the keys file,
// and builds the limiter. An invalid configuration or keys file is written to stderr and
// Setup exits with status 2.
func Setup(name string, args []string, stderr io.Writer) *App {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	path := fs.String("config", "", "TOML configuration file (default: built-in defaults)")
	keysPath := fs.String("api-keys", "", "file of API keys, one \"<key> <user id> <tier>\" a line, for [api_key] (read again on every reload)")
	_ = fs.Parse(args)

	a := &App{
		Name:     name,
		Addr:     *addr,
		Logger:   slog.New(slog.NewJSONHandler(stderr, nil)).With("app", name),
		registry: prometheus.NewRegistry(),
	}
	// Loading's warnings (an unknown RATELIMIT_* variable, …) are records of the JSON log
	// on stderr like every other line, at start and on every reload.
	a.source = configfile.Source{Path: *path, Warnf: func(format string, args ...any) {
		a.Logger.Warn("config_warning", slog.String("warning", fmt.Sprintf(format, args...)))
	}}
	if *keysPath != "" {
		a.keys = &keyFile{path: *keysPath}
	}
	cfg, err := a.load()
	if err == nil {
		a.Limiter, err = a.newLimiter(cfg)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		os.Exit(2)
	}
	return a
}

func (a *App) newLimiter(cfg config.Config) (*core.Limiter, error) {
	opts := []core.Option{core.WithLogger(a.Logger)}
	switch {
	case a.keys != nil && !cfg.APIKey.Enabled:
		a.Logger.Warn("api_keys_ignored", slog.String("reason", "-api-keys was given but api_key.enabled is false: keys are not looked up (set [api_key] enabled = true or RATELIMIT_API_KEY_ENABLED=true)"))
		opts = append(opts, core.WithKeyLookup(a.keys.lookup)) // ready for a reload that enables it
	case a.keys != nil:
		opts = append(opts, core.WithKeyLookup(a.keys.lookup))
	case cfg.APIKey.Enabled:
		return nil, errors.New("ratewarden: api_key.enabled is true, but no -api-keys file was given: the example apps look API keys up in it")
	}
	if metrics := cfg.WithDefaults().Metrics; config.On(metrics.Enabled) {
		obs, err := promlimit.New(a.registry, metrics)
		if err != nil {
			return nil, err
		}
		opts = append(opts, core.WithObserver(obs))
	}
	return core.New(cfg, opts...)
}

// Metrics serves GET /metrics (not rate limited).
func (a *App) Metrics() http.Handler {
	return promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})
}

// Admin serves the admin endpoints under /admin/ (POST /admin/reload, GET and DELETE
// /admin/limits), guarded by admin.token and the lockout of failed attempts; not rate
// limited.
func (a *App) Admin() http.Handler { return httplimit.NewAdmin(a.Limiter, a.load) }

// load reads the configuration and, with -api-keys, the keys file again: every reload
// (SIGHUP, POST /admin/reload, a change of the configuration file) goes through it, and
// the limiter's Reload then forgets the answers it cached from the old keys. A keys file
// that does not load fails the reload like an invalid configuration, and the new keys are
// made the lookup's only once the configuration has validated too: a reload refused for
// either leaves the old keys and configuration in force. (Reload's own later steps — a
// JWKS fetched at start — can still refuse a validated configuration; the new keys stay
// then, until the next reload.)
func (a *App) load() (config.Config, error) {
	cfg, err := a.source.Load()
	if err != nil {
		return config.Config{}, err
	}
	if a.keys == nil {
		return cfg, nil
	}
	keys, err := a.keys.read()
	if err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, err
	}
	a.keys.keys.Store(&keys)
	return cfg, nil
}

// watchFile reloads the configuration when its file changes on disk. A file that does
// not load is logged as a SIGHUP's is, and the configuration in force stays.
func (a *App) watchFile(ctx context.Context) {
	if a.source.Path == "" {
		return
	}
	src := a.source
	src.Logger = a.Logger // a file that does not load is logged; ReloadFrom logs its own failures
	// A change reloads as SIGHUP and POST /admin/reload do, through ReloadFrom and load,
	// which read the file and the keys file again with the other reloads held off: the
	// configuration and keys read last are the ones in force, whichever reload read them
	// (the configuration Watch read is only the sign that the file changed).
	apply := func(config.Config) error { return a.Limiter.ReloadFrom(a.load) }
	if _, err := src.Watch(ctx, 0, apply); err != nil {
		a.Logger.Warn("config_watch_failed", "path", a.source.Path, "error", err.Error())
	}
}

// Unlimited reports whether the limiter skips a request: /metrics (SPEC section 8: it
// neither counts against nor shows a client's limit) and the admin endpoints, which lock
// out failed attempts themselves. It reads the path as sent (escaped): echo and chi route
// on it, so /%6detrics or /admin%2Fx, which they answer 404, are limited like every other
// request — unrouted ones answered 404 or 405 included — by the router-wide limiter.
func Unlimited(u *url.URL) bool {
	path := u.EscapedPath()
	return path == "/metrics" || strings.HasPrefix(path, "/admin/")
}

// Run serves handler on a.Addr until SIGINT or SIGTERM, reloading the configuration on
// SIGHUP and whenever the configuration file changes on disk (an orchestrator updating a
// mounted file sends no signal). On a stop signal it lets in-flight requests finish, then
// returns 0.
func (a *App) Run(handler http.Handler) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.Limiter.ReloadOnSignal(ctx, a.load)
	a.watchFile(ctx)
	defer a.Limiter.Close()

	ln, err := net.Listen("tcp", a.Addr)
	if err != nil {
		a.Logger.Error("listen_failed", "addr", a.Addr, "error", err.Error())
		return 1
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// ReadTimeout bounds the body too. A request is in flight from its check until its
		// handler answers, and a count_statuses check (the login rule) is counted only
		// then: a client that sends headers and trickles its bodies would otherwise hold
		// one uncounted guess per connection for as long as it likes (docs/rules.md,
		// "What in flight costs a client"). The apps' bodies are a few bytes.
		ReadTimeout: 15 * time.Second,
		// WriteTimeout ends a response that a client does not read; the handlers answer
		// within the decision budgets (redis.timeout, jwt.jwks_timeout, api_key.timeout).
		WriteTimeout: 30 * time.Second,
		// IdleTimeout keeps idle keep-alive connections for a minute, not ReadTimeout's 15 s.
		IdleTimeout: time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.Logger.Info("listening", "addr", ln.Addr().String(), "backend", a.Limiter.Config().Backend)

	select {
	case err := <-served:
		a.Logger.Error("serve_failed", "error", err.Error())
		return 1
	case <-ctx.Done():
	}
	a.Logger.Info("shutting_down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.Logger.Error("shutdown_failed", "error", err.Error())
		return 1
	}
	return 0
}
