package core

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ratewarden/ratewarden/core/config"
)

// ReloadOnSignal reloads l with the configuration load returns each time one of sigs
// (SIGHUP when none is given) arrives, until ctx is done. Each reload's result is logged
// by [Limiter.Reload] and sent on the returned channel, which buffers one result and is
// never waited for: a result is dropped while an earlier one is still unread. An invalid
// configuration leaves the one in force. The channel is closed when ctx is done.
func (l *Limiter) ReloadOnSignal(ctx context.Context, load func() (config.Config, error), sigs ...os.Signal) <-chan error {
	if len(sigs) == 0 {
		sigs = []os.Signal{syscall.SIGHUP}
	}
	incoming := make(chan os.Signal, 1)
	signal.Notify(incoming, sigs...)
	results := make(chan error, 1)
	go func() {
		defer close(results)
		defer signal.Stop(incoming)
		for {
			select {
			case <-ctx.Done():
				return
			case <-incoming:
				err := l.ReloadFrom(load)
				select {
				case results <- err:
				default:
				}
			}
		}
	}()
	return results
}

// ReloadFrom reloads l with the configuration load returns (typically
// configfile.Source.Load, which reads the file again), as [Limiter.Reload] does. A load
// that fails — a file that cannot be read, is not valid TOML or does not validate — is
// logged as Reload logs an invalid configuration (config_reload_failed, at error, with the
// problems), returned, and leaves the configuration in force. SIGHUP
// ([Limiter.ReloadOnSignal]) and the admin endpoints' POST /admin/reload reload through it.
//
// load runs with every other reload of l held off, so that of two reloads at once the one
// that reads later applies later: a SIGHUP that read the file before a newer version came
// never replaces what a POST /admin/reload read after it. load must not reload l itself.
func (l *Limiter) ReloadFrom(load func() (config.Config, error)) error {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()
	cfg, err := load()
	if err != nil {
		l.logReloadFailed(err)
		return err
	}
	return l.reload(cfg)
}

// logReloadFailed writes the config_reload_failed record of a reload that failed with
// err: its text, and the problems one a line when it is a *config.ValidationError.
func (l *Limiter) logReloadFailed(err error) {
	attrs := []slog.Attr{slog.String("error", err.Error())}
	var invalid *config.ValidationError
	if errors.As(err, &invalid) {
		problems := make([]string, len(invalid.Problems))
		for i, p := range invalid.Problems {
			problems[i] = p.String()
		}
		attrs = append(attrs, slog.Any("problems", problems))
	}
	l.logger.LogAttrs(context.Background(), slog.LevelError, "config_reload_failed", attrs...)
}
