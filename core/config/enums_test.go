package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/rate"
)

// TestEnumsUnmarshalText: the enumerated settings decode from text as any
// encoding.TextUnmarshaler-aware decoder sees them, and reject what validation rejects,
// with the same words.
func TestEnumsUnmarshalText(t *testing.T) {
	t.Parallel()
	var m Mode
	require.NoError(t, m.UnmarshalText([]byte("shadow")))
	assert.Equal(t, ModeShadow, m)
	assert.EqualError(t, m.UnmarshalText([]byte("block")), `must be "enforce" or "shadow", got "block"`)
	assert.Equal(t, ModeShadow, m, "a rejected value leaves the setting alone")

	var b Backend
	require.NoError(t, b.UnmarshalText([]byte("redis")))
	assert.Equal(t, BackendRedis, b)
	assert.EqualError(t, b.UnmarshalText([]byte("etcd")), `must be "memory" or "redis", got "etcd"`)

	var f FailMode
	require.NoError(t, f.UnmarshalText([]byte("local")))
	assert.Equal(t, FailLocal, f)
	assert.EqualError(t, f.UnmarshalText([]byte("retry")), `must be "open", "closed" or "local", got "retry"`)

	assert.Equal(t, []Problem{{Key: "fail_mode", Value: "retry", Message: `must be "open", "closed" or "local", got "retry"`}},
		validationProblems(t, Config{FailMode: "retry"}), "validation words it the same")
}

func TestAlgorithmNamesComeFromRate(t *testing.T) {
	var a Algorithm
	require.NoError(t, a.UnmarshalText([]byte("gcra")))
	alg, err := a.Rate()
	require.NoError(t, err)
	assert.Equal(t, rate.GCRA, alg)

	err = a.UnmarshalText([]byte("leaky_bucket"))
	require.ErrorContains(t, err, `got "leaky_bucket"`)
	assert.Equal(t, Algorithm("gcra"), a, "a rejected value leaves the old one")

	alg, err = Algorithm("").Rate()
	require.NoError(t, err)
	assert.Equal(t, rate.TokenBucket, alg, `"" is the default`)

	for _, want := range rate.Algorithms() {
		require.NoError(t, a.UnmarshalText([]byte(want.String())), want)
		alg, err := a.Rate()
		require.NoError(t, err)
		assert.Equal(t, want, alg)
		assert.Empty(t, validationProblems(t, Config{Algorithm: a}), "%s is valid", want)
	}
}
