package promlimit

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// checkShard verifies the index of a shard: every entry is found at a slot that points to
// it, and no slot points anywhere else.
func checkShard(t *testing.T, sh *topShard) {
	t.Helper()
	used := 0
	for _, i := range sh.slots {
		if i != 0 {
			used++
			require.LessOrEqual(t, int(i), len(sh.entries))
		}
	}
	require.Equal(t, len(sh.entries), used, "one slot per entry")
	for i := range sh.entries {
		e := &sh.entries[i]
		s, found := sh.find(e.hash, &e.key)
		require.True(t, found, "entry %d (%s) is findable", i, e.key.id)
		require.Equal(t, int32(i+1), sh.slots[s])
	}
}

// TestShardIndexSurvivesChurn drives one shard through inserts, updates, replacements and
// removals with hashes drawn from few home slots, so that probe chains are long and
// backward-shift deletion is exercised, checking the index after every step.
func TestShardIndexSurvivesChurn(t *testing.T) {
	t.Parallel()
	top := newTopClients("ratelimit", 8, time.Now) // 8 entries in 16 slots
	sh := &top.shards[0]
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Unix(1_764_158_400, 0).UnixNano()
	for step := range 20_000 {
		now := base + int64(step)*int64(time.Millisecond)
		switch op := rng.IntN(10); {
		case op < 8:
			id := rng.IntN(40)
			k := clientKey{rule: "default", scope: "user", id: fmt.Sprint("u", id)}
			h := uint64(id%5)*3 | uint64(id)<<40 // 5 home slots, distinct hashes
			if id%7 == 0 {
				h = 3 // identical hashes: told apart by the key
			}
			u := usageSample{ratio: rng.Float64(), at: now, reset: now + int64(rng.IntN(2000))*int64(time.Millisecond), linear: rng.IntN(2) == 0}
			sh.put(h, &k, u)
		case len(sh.entries) > 0:
			sh.remove(rng.IntN(len(sh.entries)))
		}
		checkShard(t, sh)
		require.LessOrEqual(t, len(sh.entries), top.perShard)
	}
}
