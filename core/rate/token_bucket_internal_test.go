package rate

import (
	"math/rand/v2"
	"testing"
)

// TestDrainedIsTheDivision: drained answers as elapsed ≥ ceil(n / limit) does, at the
// boundary and across the range validation allows (limit × period ≤ 2^52, n up to twice
// that, elapsed up to years of µs and beyond).
func TestDrainedIsTheDivision(t *testing.T) {
	check := func(elapsed, n, limit int64) {
		t.Helper()
		if got, want := drained(elapsed, n, limit), elapsed >= ceilDiv(n, limit); got != want {
			t.Fatalf("drained(%d, %d, %d) = %v, want %v", elapsed, n, limit, got, want)
		}
	}
	for _, c := range [][3]int64{{0, 1, 1}, {1, 1, 1}, {59, 60_000_000, 1_000_000}, {60, 60_000_000, 1_000_000}, {60, 60_000_001, 1_000_000}, {61, 60_000_001, 1_000_000}, {1 << 62, 1 << 53, 1 << 52}, {1<<63 - 1, 1 << 53, 3}} {
		check(c[0], c[1], c[2])
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		limit := 1 + r.Int64N(1<<20)
		n := 1 + r.Int64N(2*limit*(1+r.Int64N(1<<32/limit+1)))
		at := ceilDiv(n, limit)
		for _, elapsed := range []int64{at - 1, at, at + 1, r.Int64N(1 << 62)} {
			check(max(elapsed, 0), n, limit)
		}
	}
}
