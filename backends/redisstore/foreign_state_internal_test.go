package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestStatesNoVersionWrites: a state that no version writes — a bucket limit of 0 or past
// 2^53, units or counts past 2^53, a time past 2^53 µs
// (the year 2255, where core and the store clamp instants) in any algorithm's state,
// another algorithm's tag, the text states of earlier versions — is another program's,
// decided fresh and replaced, by the fast block and the driver alike (the
// block and the driver are the script with and without lua/fast.lua, run by EVAL).
// Before, a gcra arrival time before the last change read as a bucket fuller than full:
// six requests at one instant under a limit of three were admitted; a limit of 0 answered
// resets of -2^63; past 2^53 the block's and the driver's rounding differed; and a time
// past any clock made every decision on the key fail (a TTL out of range), or, past 2^63,
// was written back as -2^63 and read next as no state (four of six admitted).
func TestStatesNoVersionWrites(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	c := srv.Client()
	ctx := context.Background()
	const limit, period, at = 3, 1_000_000, "1700000000000000"
	pols := []fdPolicy{{limit, period}}
	tests := []struct {
		alg   rate.Algorithm
		state string
	}{
		{rate.GCRA, packState(rate.GCRA, 10, 5, 0, 3)},
		{rate.GCRA, packState(rate.GCRA, 0, 9007199254740994, 1, 1700000000000000)},
		{rate.GCRA, packState(rate.GCRA, 4, 0, 1<<53/3, 1700000000000000)},
		{rate.GCRA, packState(rate.GCRA, 0, 3*period, 1<<62, 1700000000000000)},
		{rate.TokenBucket, packState(rate.TokenBucket, 3*period, 1700000000000000, 1<<63)},
		{rate.TokenBucket, packState(rate.TokenBucket, 3*period, 1700000000000000, 1<<64-1)},
		{rate.TokenBucket, packState(rate.TokenBucket, 5000000, 100, 0)},
		{rate.TokenBucket, packState(rate.TokenBucket, 9007199254740994, 1700000000000000, 3)},
		{rate.TokenBucket, packState(rate.TokenBucket, 0, 1<<64-1, 3)},
		{rate.TokenBucket, packState(rate.TokenBucket, 0, 1<<63, 3)},
		{rate.GCRA, packState(rate.GCRA, 0, 0, 3, 1<<64-1)},
		{rate.FixedWindow, packState(rate.FixedWindow, 0, 1<<64-1)},
		{rate.FixedWindow, packState(rate.FixedWindow, 0, 1<<63)},
		{rate.FixedWindow, packState(rate.FixedWindow, 1<<53+2, 1700000000000000)},
		{rate.SlidingWindowCounter, packState(rate.SlidingWindowCounter, 0, 0, 1<<64-1)},
		{rate.SlidingWindowCounter, packState(rate.SlidingWindowCounter, 1<<53+2, 0, 1700000000000000)},
		{rate.SlidingWindowCounter, packState(rate.SlidingWindowCounter, 0, 1<<53+2, 1700000000000000)},
		// A state of another algorithm of the same length, whose numbers read under this
		// algorithm's tag would be a full window; and the text of earlier versions.
		{rate.TokenBucket, packState(rate.SlidingWindowCounter, 3*period, 1700000000000000, limit)},
		{rate.SlidingWindowCounter, packState(rate.TokenBucket, limit, 0, 1700000000000000)},
		{rate.TokenBucket, "token_bucket 3000000 1700000000000000 3"},
		// gcra's state in a development version: tag 'g', the arrival time as an instant
		// (2 of 3 units used at last), which read as a delay would deny for 57 years.
		{rate.GCRA, "g" + packState(rate.GCRA, 1700000000666667, 0, 3, 1700000000000000)[1:]},
		{rate.GCRA, "gcra 1700000003000000 0 3 1700000000000000"},
		{rate.FixedWindow, "fixed_window 3 1700000000000000"},
		{rate.SlidingWindowCounter, "sliding_window_counter 3 0 1700000000000000"},
		{rate.SlidingWindow, "ZSET 1:1:1 1e30 # -1"},
		{rate.SlidingWindow, "ZSET 1:1:1 20000000000000000000 # -1"},
	}
	for i, tt := range tests {
		fast, drv, _, _ := fdSides(tt.alg, "", "")
		for _, side := range []fdSide{fast, drv} {
			prefix := side.prefix + strconv.Itoa(i)
			fdPreset(ctx, t, c, prefix+":k0", tt.state)
			var replies []string
			admitted := 0
			for range 2 * limit {
				keys, args := fdArgs(prefix, pols, []fdReq{{at: at, cost: 1, op: "0"}})
				v, err := side.run(ctx, c, keys, args)
				require.NoError(t, err, "%s %q", side.name, tt.state)
				reply := v.([]any)
				if reply[0] == int64(1) {
					admitted++
				}
				for _, x := range reply {
					assert.GreaterOrEqual(t, x.(int64), int64(0), "%s %q: %v", side.name, tt.state, reply)
				}
				replies = append(replies, fmt.Sprint(reply))
			}
			assert.Equal(t, limit, admitted, "%s %q: decided fresh, then full: %v", side.name, tt.state, replies)
		}
	}

	// A penalty whose cooldown ends past 2^53: a version writes one when a violation near
	// 2^53 starts it (an hour here). It is read: denied.
	fast, drv, _, _ := fdSides(rate.FixedWindow, "", "")
	for _, side := range []fdSide{fast, drv} {
		prefix := side.prefix + "pen-near"
		fdPreset(ctx, t, c, prefix+":p", "penalty sig0 9007202854740992 9007199253740992")
		args := []any{"1", "6", "9007199254740992", "1", "0", "sig0", "1", "3", "1000000", "1", "10", "1000000", "1", "1000000"}
		v, err := side.run(ctx, c, []string{prefix + ":w", prefix + ":p"}, args)
		require.NoError(t, err)
		assert.Equal(t, int64(0), v.([]any)[0], "%s: denied by the cooldown: %v", side.name, v)
	}

	// A penalty whose cooldown end or newest violation is past any clock: no penalty.
	for i, st := range []string{"penalty sig0 1000000000000000000000000000000 ", "penalty sig0 0 1000000000000000000000000000000"} {
		fast, drv, _, _ := fdSides(rate.FixedWindow, "", "")
		for _, side := range []fdSide{fast, drv} {
			prefix := side.prefix + "pen" + strconv.Itoa(i)
			fdPreset(ctx, t, c, prefix+":p", st)
			args := []any{"1", "6", at, "1", "0", "sig0", "1", "3", "1000000", "1", "10", "1000000", "1", "1000000"}
			v, err := side.run(ctx, c, []string{prefix + ":w", prefix + ":p"}, args)
			require.NoError(t, err)
			assert.Equal(t, int64(1), v.([]any)[0], "%s %q: admitted: %v", side.name, st, v)
		}
	}

	// At the cap, a state a version writes: limit × period = 2^52 and a consume beyond full
	// up to twice it leave units of exactly 2^53. It is read, not replaced: denied.
	capPols := []fdPolicy{{1 << 32, 1 << 20}}
	for i, st := range []struct {
		alg   rate.Algorithm
		state string
	}{
		{rate.TokenBucket, packState(rate.TokenBucket, 1<<53, 1700000000000000, 1<<32)},
		{rate.GCRA, packState(rate.GCRA, 2097152, 0, 1<<32, 1700000000000000)},
	} {
		fast, drv, _, _ := fdSides(st.alg, "", "")
		for _, side := range []fdSide{fast, drv} {
			prefix := side.prefix + "cap" + strconv.Itoa(i)
			fdPreset(ctx, t, c, prefix+":k0", st.state)
			keys, args := fdArgs(prefix, capPols, []fdReq{{at: at, cost: 1, op: "0"}})
			v, err := side.run(ctx, c, keys, args)
			require.NoError(t, err)
			assert.Equal(t, int64(0), v.([]any)[0], "%s %q: denied: %v", side.name, st.state, v)
		}
	}

	// A raw call with a cost above the limit (no Store sends one: rate.Policy.CheckCost):
	// the block's retry is the driver's.
	fast, drv, _, _ = fdSides(rate.SlidingWindowCounter, "", "")
	var replies [2]string
	for i, side := range []fdSide{fast, drv} {
		fdPreset(ctx, t, c, side.prefix+"swc:k0", packState(rate.SlidingWindowCounter, 3, 0, 1700000000000000))
		keys, args := fdArgs(side.prefix+"swc", pols, []fdReq{{at: at, cost: 5, op: "1"}})
		v, err := side.run(ctx, c, keys, args)
		require.NoError(t, err)
		replies[i] = fmt.Sprint(v)
	}
	assert.Equal(t, replies[0], replies[1], "block, driver")
}
