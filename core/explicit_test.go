package core

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnExplicitZeroIsReportedNotSilentlyDefaulted(t *testing.T) {
	t.Parallel()
	path := writeTOML(t, `
[default]
limit = 0
[redis]
max_retries = 0
pool_size   = 0    # its default is 0: fine
[jwt]
leeway = -1        # none: fine
`)
	_, err := Source{Path: path, Environ: []string{"RATELIMIT_METRICS_TOP_CLIENTS=0"}, Warnf: t.Logf}.Load()
	var invalid *ValidationError
	require.True(t, errors.As(err, &invalid), "%v", err)
	got := map[string]string{}
	for _, p := range invalid.Problems {
		got[p.Key] = p.Message
	}
	assert.Len(t, got, 3, "%v", err)
	assert.Contains(t, got["default.limit"], "set to 0, which would silently mean the default 100")
	assert.Contains(t, got["redis.max_retries"], "-1 means none")
	assert.Contains(t, got["metrics.top_clients"], "set to 0")
}
