package configfile

import (
	"errors"
	"testing"

	"github.com/ratewarden/ratewarden/core/config"
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
	var invalid *config.ValidationError
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

// An explicit `cost = 0` used to be read as 1; like every explicit zero it is reported.
func TestAnExplicitZeroCostIsReported(t *testing.T) {
	t.Parallel()
	path := writeTOML(t, `
[default]
limit = 10
window = "1m"
cost = 0
[tiers.pro]
limit = 20
window = "1m"
cost = 0
[[endpoints]]
pattern = "/a"
limit = 5
window = "1m"
cost = 0
  [endpoints.tiers.pro]
  limit = 6
  window = "1m"
  cost = 0
[[endpoints]]
pattern = "/b"
limit = 5
window = "1m"
`)
	_, err := Source{Path: path, Environ: []string{"RATELIMIT_ENDPOINTS_1_COST=0"}, Warnf: t.Logf}.Load()
	var invalid *config.ValidationError
	require.True(t, errors.As(err, &invalid), "%v", err)
	var keys []string
	for _, p := range invalid.Problems {
		keys = append(keys, p.Key)
		assert.Contains(t, p.Message, "must be ≥ 1, got 0", p.Key)
	}
	assert.ElementsMatch(t, []string{"default.cost", "tiers.pro.cost", "endpoints[0].cost", "endpoints[0].tiers.pro.cost", "endpoints[1].cost"}, keys, "%v", err)
}

// default.windows written empty was read as no windows, and the default 100 a minute
// applied (found by an attacker review); an endpoint's or a tier's empty windows were
// already rejected by validation.
func TestAnEmptyDefaultWindowsIsReported(t *testing.T) {
	t.Parallel()
	path := writeTOML(t, "[default]\nwindows = []\n")
	_, err := Source{Path: path, Warnf: t.Logf}.Load()
	var invalid *config.ValidationError
	require.True(t, errors.As(err, &invalid), "%v", err)
	require.Len(t, invalid.Problems, 1, "%v", err)
	assert.Equal(t, "default.windows", invalid.Problems[0].Key)
	assert.Equal(t, "[]", invalid.Problems[0].Value)
	assert.Contains(t, invalid.Problems[0].Message, "is empty, which would silently mean the default limit and window")
}

// With limit and window beside it, an empty default.windows is no default in disguise:
// the file loads, as it did before the check above (found by an attacker review).
func TestAnEmptyDefaultWindowsBesideLimitAndWindowLoads(t *testing.T) {
	t.Parallel()
	path := writeTOML(t, "[default]\nlimit = 5\nwindow = \"1m\"\nwindows = []\n")
	c, err := Source{Path: path, Warnf: t.Logf}.Load()
	require.NoError(t, err)
	assert.Equal(t, int64(5), c.Default.Limit)
}
