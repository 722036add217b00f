package rate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/rate"
)

// NewPolicy refuses a penalty with the same checks, and words, as the configuration's
// [penalty] section: they are one function.
func TestNewPolicyRefusesAnInvalidPenaltyWithEveryProblem(t *testing.T) {
	bad := &rate.PenaltyPolicy{Threshold: 0, Period: time.Minute, BaseCooldown: time.Minute, Multiplier: 0.5, MaxCooldown: time.Second}
	_, err := rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: 1, Period: time.Second}}, bad)
	require.Error(t, err)
	assert.Equal(t, "ratewarden: penalty: threshold: must be 1 to 1000, got 0\n"+
		"multiplier: must be a number ≥ 1, got 0.5\n"+
		`max_cooldown: must be ≥ base_cooldown (1m0s), got "1s"`, err.Error())

	good := &rate.PenaltyPolicy{Threshold: 3, Period: time.Minute, BaseCooldown: time.Minute, Multiplier: 2, MaxCooldown: time.Hour}
	_, err = rate.NewPolicy(rate.TokenBucket, []rate.Window{{Limit: 1, Period: time.Second}}, good)
	require.NoError(t, err)
}
