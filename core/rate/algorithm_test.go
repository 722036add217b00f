package rate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/rate"
)

// Algorithms lists each algorithm once, by its configuration name, and every one of them
// has its arithmetic: a fresh key admits a burst of the limit and denies the next request,
// and a peek of it writes nothing.
func TestAlgorithmsListsEveryAlgorithmWithItsArithmetic(t *testing.T) {
	all := rate.Algorithms()
	require.Equal(t, []rate.Algorithm{rate.TokenBucket, rate.SlidingWindow, rate.FixedWindow, rate.GCRA, rate.SlidingWindowCounter}, all)
	_, err := rate.ParseAlgorithm(rate.Algorithm(len(all)).String())
	require.Error(t, err, "no name past the last algorithm")
	for _, alg := range all {
		parsed, err := rate.ParseAlgorithm(alg.String())
		require.NoError(t, err, alg)
		assert.Equal(t, alg, parsed)

		p, err := rate.NewPolicy(alg, []rate.Window{{Limit: 3, Period: time.Minute, Name: "r"}}, nil)
		require.NoError(t, err, alg)
		var ks rate.KeyState
		var res rate.Result
		now := time.Unix(1_764_158_400, 0).UnixMicro()
		for i := range 3 {
			p.Apply(&ks, rate.OpTake, now, 1, &res)
			require.True(t, res.Allowed, "%s: request %d", alg, i)
		}
		p.Apply(&ks, rate.OpTake, now, 1, &res)
		assert.False(t, res.Allowed, "%s: over the limit", alg)
		assert.Equal(t, alg == rate.TokenBucket || alg == rate.GCRA, alg.Continuous(), alg)

		var fresh rate.KeyState
		p.Apply(&fresh, rate.OpPeek, now, 1, &res)
		assert.True(t, res.Allowed, alg)
		assert.Equal(t, int64(3), res.Windows[0].Remaining, alg)
		assert.Zero(t, fresh.ExpiresAt(), "%s: a peek of a fresh key writes nothing", alg)
	}
}
