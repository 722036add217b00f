package httplimit

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAFullFailureTableCostsFewStepsPerAttempt: an attacker holds the table full with
// failures 5 ms apart, so that one address leaves the window at a time, and sends from a
// new address each time one may have: every attempt forgets the failures that left the
// window from the front of the order, each once. A sweep of the whole table per attempt
// (an attacker review: 1,000 sweeps of 10,000 addresses, ~1.5 ms each under the lock)
// would visit about 10,000 addresses per attempt.
func TestAFullFailureTableCostsFewStepsPerAttempt(t *testing.T) {
	f := failures{byAddr: map[netip.Prefix][]time.Time{}}
	now := time.Unix(1_800_000_000, 0)
	addr := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 16), byte(i >> 8), byte(i)}), 64)
	}
	wrong := func() bool { return false }
	for i := range maxTrackedAddrs {
		_, ok := f.attempt(addr(i), now, wrong)
		require.False(t, ok)
		now = now.Add(5 * time.Millisecond)
	}
	wait, _ := f.attempt(addr(maxTrackedAddrs), now, wrong)
	require.Positive(t, wait, "full: a new address is refused")

	// 60 s after the first failure, one address leaves the window every 6 ms.
	now = time.Unix(1_800_000_000, 0).Add(failureWindow)
	refused, admitted := 0, 0
	f.visits = 0
	const attempts = 2_000
	for i := range attempts {
		if wait, _ := f.attempt(addr(2*maxTrackedAddrs+i), now, wrong); wait > 0 {
			refused++
		} else {
			admitted++
		}
		now = now.Add(2500 * time.Microsecond)
	}
	assert.LessOrEqual(t, len(f.byAddr), maxTrackedAddrs, "the table stays bounded")
	assert.Equal(t, attempts/2, admitted, "a new address takes each room that frees")
	assert.Equal(t, attempts/2, refused)
	// Each attempt looks at its own address, and at each failure that left the window,
	// once; a sweep of the table per attempt made about 10,000 visits each.
	assert.LessOrEqual(t, f.visits, attempts+attempts/2+1, "visits of addresses")
}
