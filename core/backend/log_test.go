package backend_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/config"
)

var errBackendDown = errors.New("backend down")

func TestErrorLogWritesOncePerSecondPerKind(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := adaptertest.NewClock()
	log := backend.NewErrorLog(slog.New(slog.NewJSONHandler(&buf, nil)), c.Now)
	for i := 0; i < 50; i++ {
		log.Log(context.Background(), "redis_error", "timeout", errBackendDown)
		log.Log(context.Background(), "redis_error", "connection", errBackendDown)
		c.Advance(10 * time.Millisecond) // 50 × 10ms = 500ms: still inside the first second
	}
	c.Advance(500 * time.Millisecond)
	log.Log(context.Background(), "redis_error", "timeout", errBackendDown)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	assert.Len(t, lines, 3, buf.String())
	assert.Contains(t, lines[0], `"level":"ERROR"`)
	assert.Contains(t, lines[0], `"kind":"timeout"`)
	assert.Contains(t, lines[1], `"kind":"connection"`)
	assert.Contains(t, lines[2], `"suppressed":49`)
}

// Only the names the backend key accepts can be registered: a name validation would
// refuse could never be configured.
func TestRegisterRefusesNamesTheConfigurationCannotName(t *testing.T) {
	for _, name := range []config.Backend{"etcd", ""} {
		assert.PanicsWithValue(t,
			`ratewarden: backend.Register("`+string(name)+`"): not a backend the configuration can name; pass the store with core.WithStore`,
			func() { backend.Register(name, nil) })
	}
	assert.PanicsWithValue(t, "ratewarden: backend.Register: nil factory for redis",
		func() { backend.Register(config.BackendRedis, nil) })
}
