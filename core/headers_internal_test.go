package core

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestUnixCeilAfterIsTheRoundedUpSum: X-RateLimit-Reset and the body's reset are t+d in
// Unix seconds rounded up, d counted from t's microsecond (where the stores decide),
// computed without time.Time.Add; it must agree with the sum at every edge of a second,
// for times before 1970 too, and for negative durations.
func TestUnixCeilAfterIsTheRoundedUpSum(t *testing.T) {
	base := []time.Time{
		time.Unix(1764160800, 0),
		time.Unix(1764160800, 1),
		time.Unix(1764160800, 999),
		time.Unix(1764160800, 1000),
		time.Unix(1764160800, 1001),
		time.Unix(1764160800, 999_999_999),
		time.Unix(-5, 500_000_000),
		time.Unix(0, 0),
	}
	durs := []time.Duration{0, 1, time.Second - 1, time.Second, time.Second + 1, 59 * time.Second, time.Minute + 999_999_999, -1, -time.Second, -time.Second - 1}
	check := func(tm time.Time, d time.Duration) {
		t.Helper()
		if got, want := unixCeilAfter(tm, d), unixCeil(tm.Truncate(time.Microsecond).Add(d)); got != want {
			t.Fatalf("unixCeilAfter(%v, %v) = %d, want %d", tm, d, got, want)
		}
	}
	for _, tm := range base {
		for _, d := range durs {
			check(tm, d)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		check(time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9)), time.Duration(r.Int64N(int64(48*time.Hour)))-time.Hour)
	}
}
