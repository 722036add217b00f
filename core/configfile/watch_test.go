package configfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestWatchReloadsTheFileWhenItChangesOnDisk edits a configuration file under a running
// Limiter, as an orchestrator updating a mounted file does (no SIGHUP): a valid change is
// applied, in place or renamed over the file; an invalid one — bad TOML, a bad setting — is
// reported and the configuration in force stays.
func TestWatchReloadsTheFileWhenItChangesOnDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ratewarden.toml")
	write := func(p, limit string) {
		t.Helper()
		require.NoError(t, os.WriteFile(p, []byte("[default]\nlimit = "+limit+"\nwindow = \"1m\"\n"), 0o600))
	}
	// replace writes a file whole, as editors and orchestrators do (a temporary file renamed
	// over it), so that no read can see it half written.
	tmp := filepath.Join(dir, "ratewarden.toml.tmp")
	replace := func(limit string) {
		t.Helper()
		write(tmp, limit)
		require.NoError(t, os.Rename(tmp, path))
	}
	write(path, "10")
	var logged syncBuffer
	src := Source{Path: path, Environ: []string{}, Logger: slog.New(slog.NewJSONHandler(&logged, nil))}
	cfg, err := src.Load()
	require.NoError(t, err)
	lim, err := core.New(cfg, core.WithStore(adaptertest.NewStore()), core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	defer lim.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results, err := src.Watch(ctx, 0, lim.Reload)
	require.NoError(t, err)
	limit := func() int64 { return lim.Config().Default.Limit }
	// await reads results until one satisfies ok; a change may be read more than once.
	await := func(what string, ok func(error) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case err := <-results:
				if ok(err) {
					return
				}
			case <-deadline:
				t.Fatalf("the watcher never reported %s (limit in force: %d)", what, limit())
			}
		}
	}

	write(path, "20") // in place
	await("the edit", func(err error) bool { return err == nil && limit() == 20 })

	replace("30 30") // not TOML
	await("the syntax error", func(err error) bool {
		var fe *FileError
		return errors.As(err, &fe)
	})
	assert.Equal(t, int64(20), limit(), "a file that does not parse keeps the configuration in force")
	assert.Contains(t, logged.String(), `"msg":"config_reload_failed"`, "a file that does not load is logged, not only sent")

	replace("-1") // TOML, but an invalid setting
	await("the invalid limit", func(err error) bool {
		var ve *config.ValidationError
		return errors.As(err, &ve) && ve.Problems[0].Key == "default.limit"
	})
	assert.Equal(t, int64(20), limit(), "an invalid file keeps the configuration in force")

	replace("40")
	await("the file renamed over it", func(err error) bool { return err == nil && limit() == 40 })

	// Deleted and written again, as git checkout does: koanf's watch ends with the file,
	// and the watch goes on once it is back (it used to stop for good).
	require.NoError(t, os.Remove(path))
	await("the removal", func(err error) bool { return err != nil })
	write(path, "50")
	await("the file written again", func(err error) bool { return err == nil && limit() == 50 })
	write(path, "60") // and it is still watched
	await("an edit after the file came back", func(err error) bool { return err == nil && limit() == 60 })

	cancel()
	for range results { // closed once the watch has stopped
	}
}

func TestWatchNeedsAFile(t *testing.T) {
	_, err := Source{}.Watch(context.Background(), 0, func(config.Config) error { return nil })
	assert.Error(t, err)
}

// syncBuffer is a bytes.Buffer safe for the watcher's goroutine to write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
