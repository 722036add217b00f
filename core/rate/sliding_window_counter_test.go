package rate_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/rate"
)

// TestSlidingWindowCounterErrorBound replays arrival traces through sliding_window_counter
// and through the exact sliding_window log, and measures how far the approximation strays:
// the most units it admits in any sliding interval (t − window, t] (the exact log never
// admits more than limit there), how many of its admissions the exact rule would have
// refused given the same history, and how many requests each admits. docs/algorithms.md
// quotes what it logs:
//
//	cd core && go test ./rate -run TestSlidingWindowCounterErrorBound -v
//
// It asserts the bound derived there: never more than limit in an aligned window, and at
// most 2 × limit − ⌈2 × limit / window_µs⌉ in any sliding interval — which the
// "boundary" trace reaches exactly, so the bound is tight.
func TestSlidingWindowCounterErrorBound(t *testing.T) {
	t.Parallel()
	const (
		limit   = 100
		window  = time.Minute
		windows = 240 // four hours of each trace
	)
	w := window.Microseconds()
	bound := int64(2*limit) - (2*limit+w-1)/w
	base := time.Unix(1_764_158_400, 0).UnixMicro() // aligned to the hour
	tests := []struct {
		name  string
		trace func(rng *rand.Rand) []int64 // arrival times in µs after base, in order
		tight bool                         // the trace reaches the bound
	}{
		{name: "steady Poisson at 1.5 × limit", trace: func(rng *rand.Rand) []int64 {
			return poisson(rng, 0, windows*w, w/(limit*3/2))
		}},
		{name: "steady Poisson at 1 × limit", trace: func(rng *rand.Rand) []int64 {
			return poisson(rng, 0, windows*w, w/limit)
		}},
		{name: "on/off: 5-30 s at 10 × limit, 10-120 s idle", trace: func(rng *rand.Rand) []int64 {
			var ts []int64
			for at := int64(0); at < windows*w; {
				on := (5 + rng.Int64N(26)) * time.Second.Microseconds()
				ts = append(ts, poisson(rng, at, at+on, w/(limit*10))...)
				at += on + (10+rng.Int64N(111))*time.Second.Microseconds()
			}
			return ts
		}},
		{name: "bursts of limit at one instant, 20-90 s apart", trace: func(rng *rand.Rand) []int64 {
			var ts []int64
			for at := rng.Int64N(w); at < windows*w; at += (20 + rng.Int64N(71)) * time.Second.Microseconds() {
				for range limit {
					ts = append(ts, at)
				}
			}
			return ts
		}},
		{name: "boundary: limit just before a window ends, then just before the next ends", tight: true, trace: func(*rand.Rand) []int64 {
			var ts []int64
			for k := int64(1); k < windows; k += 3 { // window k−1 empty, k full at its end, k+1 at its end
				for range limit {
					ts = append(ts, (k+1)*w-1)
				}
				for range limit {
					ts = append(ts, (k+2)*w-2)
				}
			}
			return ts
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trace := tc.trace(rand.New(rand.NewPCG(14, 5)))
			counter := replay(t, rate.SlidingWindowCounter, limit, window, base, trace)
			exact := replay(t, rate.SlidingWindow, limit, window, base, trace)

			require.LessOrEqual(t, maxInWindow(exact, w), int64(limit), "the exact log")
			require.LessOrEqual(t, maxAligned(counter, w), int64(limit), "never more than limit in an aligned window")
			most := maxInWindow(counter, w)
			require.LessOrEqual(t, most, bound, "at most 2 × limit − ⌈2 × limit / window_µs⌉ in any sliding window")
			if tc.tight {
				require.Equal(t, bound, most, "the bound is reached")
			}
			over, excess := overAdmitted(counter, limit, w)
			t.Logf("%d requests: exact log admits %d, counter %d (%+.2f%%); counter's most in one sliding minute %d (limit %d, bound %d); %d of its admissions (%.2f%%) end a minute holding more than the limit, by %.1f on average",
				len(trace), len(exact), len(counter), 100*float64(len(counter)-len(exact))/float64(len(exact)),
				most, limit, bound, over, 100*float64(over)/float64(len(counter)), float64(excess)/float64(max(over, 1)))
		})
	}
}

// poisson returns arrivals in [from, to) with exponential gaps of the given mean (µs).
func poisson(rng *rand.Rand, from, to, mean int64) []int64 {
	var ts []int64
	for at := from + int64(rng.ExpFloat64()*float64(mean)); at < to; at += int64(rng.ExpFloat64() * float64(mean)) {
		ts = append(ts, at)
	}
	return ts
}

// replay decides every arrival of trace (µs after base) as one request of cost 1 on one
// key and returns the admitted arrivals' times.
func replay(t *testing.T, alg rate.Algorithm, limit int64, window time.Duration, base int64, trace []int64) []int64 {
	p, err := rate.NewPolicy(alg, []rate.Window{{Limit: limit, Period: window, Name: "r"}}, nil)
	require.NoError(t, err)
	var ks rate.KeyState
	var res rate.Result
	var admitted []int64
	for _, at := range trace {
		p.Apply(&ks, rate.OpTake, base+at, 1, &res)
		if res.Allowed {
			admitted = append(admitted, at)
		}
	}
	return admitted
}

// maxInWindow returns the most admissions in any interval (t − w, t].
func maxInWindow(times []int64, w int64) int64 {
	var most int64
	i := 0
	for j, tj := range times {
		for times[i] <= tj-w {
			i++
		}
		most = max(most, int64(j-i+1))
	}
	return most
}

// maxAligned returns the most admissions in any aligned window [k × w, (k+1) × w) (base
// is aligned to w).
func maxAligned(times []int64, w int64) int64 {
	var most, n int64
	for j, tj := range times {
		if j == 0 || tj/w != times[j-1]/w {
			n = 0
		}
		n++
		most = max(most, n)
	}
	return most
}

// overAdmitted counts the admissions that made more than limit in the interval
// (t − w, t] ending at them — those the exact log would have refused after the same
// history — and sums by how much each exceeded it.
func overAdmitted(times []int64, limit, w int64) (over int, excess int64) {
	i := 0
	for j, tj := range times {
		for times[i] <= tj-w {
			i++
		}
		if n := int64(j - i + 1); n > limit {
			over++
			excess += n - limit
		}
	}
	return over, excess
}
