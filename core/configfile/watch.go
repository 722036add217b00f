package configfile

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/knadh/koanf/providers/file"

	"github.com/ratewarden/ratewarden/core/config"
)

// DefaultDebounce is how long [Source.Watch] waits after the last change to the file
// before it reads it: editors and orchestrators write a file in several steps.
const DefaultDebounce = 200 * time.Millisecond

// Watch reads the configuration again, as [Source.Load] does, each time the file at
// s.Path changes on disk, and passes it to apply (typically a [core.Limiter]'s Reload),
// until ctx is done. It is what a mounted configuration file needs: orchestrators update
// it in place or by swapping a symbolic link, and send no SIGHUP.
//
// The watching is koanf's file provider (fsnotify on the file's directory, so writes,
// files renamed over it and symbolic-link swaps are all seen). Changes less than debounce
// apart (DefaultDebounce when 0) are read once, after the last. A file that does not load
// — not valid TOML, an invalid setting — is not applied: the configuration in force
// stays, exactly as with a SIGHUP, and the failure is logged at error level
// ("config_reload_failed", with the path and the error) through s.Logger. Each read's
// result (the load or apply error, or nil)
// is sent on the returned channel, which buffers one result and is never waited for, like
// the channel of core.Limiter.ReloadOnSignal; it is closed when ctx is done. A file that
// is removed (a delete and re-create, as git checkout does) sends an error and is watched
// again once it is back, and read then.
//
// [core.Limiter]: https://pkg.go.dev/github.com/ratewarden/ratewarden/core#Limiter
func (s Source) Watch(ctx context.Context, debounce time.Duration, apply func(config.Config) error) (<-chan error, error) {
	if s.Path == "" {
		return nil, errors.New("ratewarden: Watch: the source has no file")
	}
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	results := make(chan error, 1)
	send := func(err error) {
		select {
		case results <- err:
		default:
		}
	}
	var (
		mu     sync.Mutex // guards timer, cur and done
		timer  *time.Timer
		cur    *file.File // the provider watching now; nil while the file is away
		done   bool
		reload sync.Mutex // one reload at a time
	)
	read := func() {
		reload.Lock()
		defer reload.Unlock()
		if ctx.Err() != nil {
			return
		}
		cfg, err := s.Load()
		if err != nil {
			// apply (a Limiter's Reload) logs the configurations it refuses; one that
			// does not even load is logged here, so that no failure goes unseen.
			logger := s.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.ErrorContext(ctx, "config_reload_failed", slog.String("path", s.Path), slog.String("error", err.Error()))
		} else {
			err = apply(cfg)
		}
		send(err)
	}
	schedule := func() { // mu held
		if timer != nil {
			timer.Stop()
		}
		timer = time.AfterFunc(debounce, read)
	}
	var watch func() error
	// rewatch waits for the file to be back and watches it again: koanf's provider stops
	// for good when the file is removed, as a delete and re-create does (git checkout, some
	// editors), and the watch must outlive that.
	rewatch := func() {
		tick := time.NewTicker(debounce)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if watch() == nil {
				mu.Lock()
				if !done {
					schedule() // the file may have changed while it was not watched
				}
				mu.Unlock()
				return
			}
		}
	}
	watch = func() error {
		fp := file.Provider(s.Path)
		mu.Lock()
		defer mu.Unlock()
		if done {
			return nil
		}
		err := fp.Watch(func(_ any, err error) {
			mu.Lock()
			defer mu.Unlock()
			if done {
				return
			}
			if err != nil { // the file was removed, or the watcher failed: watch again
				cur = nil
				send(err)
				go rewatch()
				return
			}
			schedule()
		})
		if err == nil {
			cur = fp
		}
		return err
	}
	if err := watch(); err != nil {
		return nil, err
	}
	go func() {
		<-ctx.Done()
		mu.Lock()
		done = true
		if timer != nil {
			timer.Stop()
		}
		fp := cur
		mu.Unlock()
		if fp != nil { // unlocked: fsnotify's Close waits for a callback that may want mu
			_ = fp.Unwatch()
		}
		reload.Lock() // a reload in progress finishes before the channel closes
		close(results)
		reload.Unlock()
	}()
	return results, nil
}
