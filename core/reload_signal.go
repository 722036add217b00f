package core

import (
	"context"
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
				err := l.reloadFrom(load)
				select {
				case results <- err:
				default:
				}
			}
		}
	}()
	return results
}

// reloadFrom loads a configuration and reloads it, logging a load failure as Reload logs
// a validation failure.
func (l *Limiter) reloadFrom(load func() (config.Config, error)) error {
	cfg, err := load()
	if err != nil {
		l.logger.Error("config_reload_failed", "error", err.Error())
		return err
	}
	return l.Reload(cfg)
}
