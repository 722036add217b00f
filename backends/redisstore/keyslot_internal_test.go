package redisstore

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
)

// TestKeySlotAgreesWithClusterKeyslot compares keySlot with a real node's CLUSTER KEYSLOT
// for random and adversarial keys.
func TestKeySlotAgreesWithClusterKeyslot(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t)
	c := cl.Nodes()[0].Client()
	keys := []string{"", "{", "}", "{}", "{}}", "}{", "{{}}", "a{b}c{d}", "{}{x}", "{x", "x}", "{\x00}", "é{ü}", "{😀}z", strings.Repeat("k", 1<<16), "{" + strings.Repeat("t", 70000) + "}x"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}ab\x00\xff\x80é")
	for range 3000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		keys = append(keys, string(b))
	}
	bad := 0
	for _, k := range keys {
		want, err := c.ClusterKeySlot(ctx, k).Result()
		require.NoError(t, err)
		if int(want) != keySlot(k) {
			bad++
			if bad < 10 {
				t.Errorf("keySlot(%q) = %d, CLUSTER KEYSLOT %d", k, keySlot(k), want)
			}
		}
	}
	require.Zero(t, bad)
}
