package redisstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// TestRegisteredBackend: importing the package makes backend = "redis" available to
// core.New, which builds the store from the configuration and closes it.
func TestRegisteredBackend(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, true, srv.Addr())
	cfg.Default = config.Limits{Limit: 2, Window: time.Minute}
	obs := newObserver()
	lim, err := core.New(cfg, core.WithObserver(obs))
	require.NoError(t, err)
	assert.Equal(t, core.Allowed, decide(lim, "192.0.2.40").Outcome)
	assert.Equal(t, core.Allowed, decide(lim, "192.0.2.40").Outcome)
	assert.Equal(t, core.Denied, decide(lim, "192.0.2.40").Outcome)
	assert.Equal(t, 3, obs.count(""), "the observer sees the backend calls")
	require.NoError(t, lim.Close())
}
