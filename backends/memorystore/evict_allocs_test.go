//go:build !race

package memorystore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ratewarden/ratewarden/core/rate"
)

// Deciding a known key of a full store allocates nothing, also when the decision records
// the key's expiry among a shard's soonest (a key fresh after a second expires before the
// others) and when those records overflow.
func TestDecidingAKnownKeyOfAFullStoreAllocatesNothing(t *testing.T) {
	s, _ := staggeredStore(t, 1)
	perSecond := newPolicyPer(t, 1, time.Second, nil)
	for j := range 100 { // sweeps the shard and records its soonest keys
		take(t, s, fmt.Sprintf("new-%d", j), perSecond, newKeysFrom.Add(time.Duration(j)*staggerTick))
	}
	req := rate.Request{Key: "new-99", Policy: perSecond, Cost: 1, Now: newKeysFrom}
	var res rate.Result
	allocs := testing.AllocsPerRun(2000, func() {
		req.Now = req.Now.Add(time.Second)
		_ = s.Take(context.Background(), &req, &res)
	})
	assert.Zero(t, allocs)
}
