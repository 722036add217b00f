package rate

import (
	"testing"
	"time"
)

// TestDeniedDecisionsDropTheAdmissionsThatLeft: the attack of a client denied for long —
// windows of 100,000 an hour and 100,000 two hours, filled, then requests once the first
// admissions have left the hour. Every decision but a peek, denied or not, drops the
// admissions that have left each window, so that the next one reads none of them again:
// the log of the hour holds only what is still in it after each, where it held all
// 100,000 (each decision walking them) while no consume ran.
func TestDeniedDecisionsDropTheAdmissionsThatLeft(t *testing.T) {
	const limit = 100_000
	p, err := NewPolicy(SlidingWindow, []Window{{Limit: limit, Period: time.Hour}, {Limit: limit, Period: 2 * time.Hour}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		ks  KeyState
		res Result
	)
	start := int64(1_764_158_400_000_000)
	for i := range int64(limit) { // one admission a millisecond, for 100 s
		if p.Apply(&ks, OpTake, start+i*1000, 1, &res); !res.Allowed {
			t.Fatalf("admission %d denied", i)
		}
	}
	held := func(period time.Duration) int {
		s := ks.at(ks.find(uint32(period / time.Second)))
		if s.log == nil {
			return 0
		}
		return s.log.n
	}
	hour := start + time.Hour.Microseconds()
	for _, step := range []struct {
		op      Op
		at      int64 // µs after the hour: the admissions of [0, at] ms have left it
		allowed bool
		held    int // entries of the hour's log after the decision
		held2   int // and of the two hours' log
	}{
		{OpPeek, 25_000_000, false, limit, limit}, // a peek writes nothing
		{OpTake, 25_000_000, false, limit - 25_001, limit},
		{OpTake, 25_000_000, false, limit - 25_001, limit},
		{OpCheck, 50_000_000, false, limit - 50_001, limit},
		{OpConsume, 75_000_000, true, limit - 75_001 + 1, limit + 1}, // beyond full in the 2 h window
		{OpPeek, 99_999_000, false, limit - 75_001 + 1, limit + 1},
		{OpTake, 99_999_000, false, 1, limit + 1},
	} {
		p.Apply(&ks, step.op, hour+step.at, 1, &res)
		if res.Allowed != step.allowed {
			t.Fatalf("%s at the hour + %d µs: allowed %v", step.op, step.at, res.Allowed)
		}
		if got := held(time.Hour); got != step.held {
			t.Fatalf("%s at the hour + %d µs: the hour's log holds %d entries, want %d", step.op, step.at, got, step.held)
		}
		if got := held(2 * time.Hour); got != step.held2 {
			t.Fatalf("%s at the hour + %d µs: the two hours' log holds %d entries, want %d", step.op, step.at, got, step.held2)
		}
	}
}
